using System;
using System.Collections.Generic;
using System.IO;
using System.Threading.Tasks;
using NUnit.Framework;

namespace LiveML.Tests
{
    [TestFixture]
    public class EventQueueTests
    {
        private string _dir;

        [SetUp]
        public void SetUp() { _dir = Fixtures.TempDir(); }

        [TearDown]
        public void TearDown() { Directory.Delete(_dir, true); }

        private EventQueue Open(long segment = 4096, long max = 1 << 20)
        {
            return new EventQueue(new EventQueueOptions { Directory = _dir, SegmentBytes = segment, MaxBytes = max });
        }

        private static string Event(long seq) { return "{\"event_id\":\"e-" + seq + "\",\"sequence\":" + seq + ",\"pad\":\"" + new string('x', 60) + "\"}"; }

        [Test]
        public void EventsSurviveAReopenAndCommittedOnesAreNotResent()
        {
            using (EventQueue q = Open())
            {
                for (int i = 0; i < 200; i++) q.Append(Event(q.NextSequence()));
                EventBatch b = q.Peek(150);
                Assert.AreEqual(150, b.Count);
                q.Commit(b);
                Assert.AreEqual(50, q.Pending);
            }
            Assert.That(Directory.GetFiles(_dir, "events-*.jsonl").Length, Is.LessThanOrEqualTo(3), "delivered segments are deleted");
            using (EventQueue q = Open())
            {
                Assert.AreEqual(50, q.Pending);
                EventBatch rest = q.Peek(500);
                Assert.AreEqual(50, rest.Count);
                StringAssert.Contains("\"e-150\"", rest.Lines[0]);
                Assert.AreEqual(200, q.NextSequence(), "sequence numbers continue across sessions");
                q.Commit(rest);
                Assert.AreEqual(0, q.Pending);
            }
            using (EventQueue q = Open())
            {
                Assert.AreEqual(0, q.Pending);
                Assert.AreEqual(201, q.NextSequence());
            }
        }

        [Test]
        public void ATornLastLineIsSkippedAndLaterEventsStayIntact()
        {
            using (EventQueue q = Open())
            {
                q.Append(Event(0));
                q.Append(Event(1));
            }
            string seg = Directory.GetFiles(_dir, "events-*.jsonl")[0];
            File.AppendAllText(seg, "{\"event_id\":\"torn"); // the process died mid-write
            using (EventQueue q = Open())
            {
                q.Append(Event(2));
                EventBatch b = q.Peek(10);
                Assert.AreEqual(3, b.Count);
                StringAssert.Contains("\"e-2\"", b.Lines[2]);
            }
        }

        [Test]
        public void PastTheCapTheOldestAreDroppedAndCounted()
        {
            using (EventQueue q = Open(segment: 1000, max: 5000))
            {
                for (int i = 0; i < 200; i++) q.Append(Event(i));
                Assert.That(q.Bytes, Is.LessThanOrEqualTo(5000));
                Assert.That(q.Dropped, Is.GreaterThan(100));
                Assert.AreEqual(200, q.Dropped + q.Pending);
                EventBatch b = q.Peek(1000);
                StringAssert.Contains("\"e-199\"", b.Lines[b.Count - 1]);
                Assert.AreEqual(q.Pending, b.Count);
            }
            using (EventQueue q = Open(segment: 1000, max: 5000)) Assert.That(q.Dropped, Is.GreaterThan(100), "the counter is kept on disk");
        }
    }

    [TestFixture]
    public class PlayerBehaviorAnalyzerTests
    {
        private string _dir;
        private FakeTransport _http;
        private LiveMLClient _client;
        private readonly HashSet<string> _stored = new HashSet<string>();
        private readonly List<string> _logs = new List<string>();

        [SetUp]
        public void SetUp()
        {
            _dir = Fixtures.TempDir();
            _http = new FakeTransport();
            _client = new LiveMLClient(new LiveMLClientOptions { BaseUrl = "http://api.test", ApiKey = "k", Transport = _http, Delay = d => Task.FromResult(0) });
        }

        [TearDown]
        public void TearDown() { Directory.Delete(_dir, true); }

        private PlayerBehaviorAnalyzer Analyzer()
        {
            return new PlayerBehaviorAnalyzer(_client, new PlayerBehaviorOptions
            {
                PlayerId = "player-7", Game = "demo", FlushAtCount = 1000000, Queue = new EventQueueOptions { Directory = _dir }, Log = _logs.Add,
            });
        }

        /// <summary>The events contract's answer: per-event validation, partial success, idempotent ids.</summary>
        private HttpResponse Events(HttpRequest r, Func<Dictionary<string, object>, string> reject)
        {
            var body = Json.ParseObject(r.Body);
            int accepted = 0, duplicates = 0, index = 0;
            var rejected = new List<object>();
            foreach (object o in (List<object>)body["events"])
            {
                var e = (Dictionary<string, object>)o;
                string why = reject(e);
                if (why != null) rejected.Add(new Dictionary<string, object> { { "index", index }, { "event_id", e["event_id"] }, { "reason", why } });
                else if (_stored.Add((string)e["event_id"])) accepted++;
                else duplicates++;
                index++;
            }
            return FakeTransport.Answer(200, Json.Serialize(new Dictionary<string, object> { { "accepted", accepted }, { "duplicates", duplicates }, { "rejected", rejected }, { "correlation_id", "c" } }));
        }

        /// <summary>One session that tracks <paramref name="events"/> actions and flushes them to a server
        /// answering <paramref name="status"/>: the flush stops there and every event stays queued.</summary>
        private async Task<FlushResult> FlushRefused(int status, string body, int events)
        {
            _http.Handler = r => FakeTransport.Answer(status, body);
            using (PlayerBehaviorAnalyzer a = Analyzer())
            {
                for (int i = 0; i < events; i++) a.TrackPlayerAction("tick");
                FlushResult f = await a.FlushAsync();
                StringAssert.StartsWith("HTTP " + status, f.Stopped);
                Assert.AreEqual(events, a.Queue.Pending);
                return f;
            }
        }

        [Test]
        public async Task TrackedEventsCarryIdsAndSequencesAndPartialSuccessIsHonoured()
        {
            _http.Handler = r => Events(r, e => Json.GetObject(e, "properties") != null && Json.GetObject(e, "properties").ContainsKey("bad") ? "properties.bad: refused" : null);
            using (PlayerBehaviorAnalyzer a = Analyzer())
            {
                for (int i = 0; i < 10; i++) a.TrackPlayerAction("level_complete", new Dictionary<string, object> { { "level", i } });
                a.TrackPlayerAction("purchase", new Dictionary<string, object> { { "bad", true } });
                FlushResult f = await a.FlushAsync();
                Assert.AreEqual(11, f.Sent);
                Assert.AreEqual(10, f.Accepted);
                Assert.AreEqual(1, f.Rejected);
                Assert.AreEqual(0, a.Queue.Pending, "rejected events are dropped, delivered ones never resent");
                Assert.IsTrue(_logs.Exists(l => l.Contains("properties.bad")));
                var sent = (List<object>)Json.ParseObject(_http.Requests[0].Body)["events"];
                var first = (Dictionary<string, object>)sent[0];
                Assert.AreEqual("player-7", first["player_id"]);
                Assert.AreEqual(0.0, first["sequence"]);
                Assert.AreEqual(36, ((string)first["event_id"]).Length);
                StringAssert.EndsWith("Z", (string)first["timestamp"]);
                Assert.AreEqual("demo", Json.ParseObject(_http.Requests[0].Body)["game"]);
                Assert.AreEqual("k", _http.Requests[0].Headers["x-api-key"]);
            }
        }

        [Test]
        public async Task ServerErrorsKeepTheEventsAndTheResendUsesTheSameIds()
        {
            Assert.AreEqual("HTTP 503", (await FlushRefused(503, "{}", 5)).Stopped);
            string firstIds = _http.Requests[0].Body;
            _http.Handler = r => Events(r, e => null);
            using (PlayerBehaviorAnalyzer a = Analyzer()) // the next session: backoff state is fresh, the queue is not
            {
                FlushResult f = await a.FlushAsync();
                Assert.AreEqual(5, f.Accepted);
                Assert.AreEqual(firstIds.Length, _http.Requests[1].Body.Length);
                foreach (object o in (List<object>)Json.ParseObject(firstIds)["events"])
                    StringAssert.Contains((string)((Dictionary<string, object>)o)["event_id"], _http.Requests[1].Body);
            }
        }

        [Test]
        public async Task AWholeBatchRefusalIsSplitUntilOnlyTheBadEventIsDropped()
        {
            _http.Handler = r => r.Body.Contains("\"poison\"") ? FakeTransport.Answer(422, "{\"error\":\"validation_error\",\"message\":\"events[0]: bad\",\"fields\":[\"events\"]}") : Events(r, e => null);
            using (PlayerBehaviorAnalyzer a = Analyzer())
            {
                for (int i = 0; i < 7; i++) a.TrackPlayerAction("tick", new Dictionary<string, object> { { "k", i == 4 ? "poison" : "ok" } });
                FlushResult f = await a.FlushAsync();
                Assert.AreEqual(6, _stored.Count);
                Assert.AreEqual(1, f.Rejected);
                Assert.AreEqual(0, a.Queue.Pending);
            }
        }

        private static void WaitFor(string what, Func<bool> condition)
        {
            DateTime until = DateTime.UtcNow.AddSeconds(30); // generous: CI machines are shared
            while (!condition() && DateTime.UtcNow < until) System.Threading.Thread.Sleep(5);
            Assert.IsTrue(condition(), "timed out waiting for " + what);
        }

        [Test]
        public void FlushesStartBySizeAndByIntervalWithoutBlockingTheCaller()
        {
            DateTime now = new DateTime(2026, 12, 1, 10, 0, 0, DateTimeKind.Utc);
            var gate = new System.Threading.ManualResetEventSlim(false);
            _http.Handler = r => { gate.Wait(TimeSpan.FromSeconds(10)); return Events(r, e => null); };
            var options = new PlayerBehaviorOptions
            {
                PlayerId = "p", FlushAtCount = 5, FlushInterval = TimeSpan.FromSeconds(10), Clock = () => now,
                Queue = new EventQueueOptions { Directory = _dir },
            };
            using (var a = new PlayerBehaviorAnalyzer(_client, options))
            {
                for (int i = 0; i < 4; i++) a.TrackPlayerAction("tick");
                Assert.AreEqual(0, _http.Requests.Count);
                a.TrackPlayerAction("tick"); // the fifth: a flush starts, and the server is slow
                WaitFor("the first request", () => _http.Count("/events") == 1);
                a.TrackPlayerAction("tick"); // tracking goes on while the flush waits on the network
                gate.Set();
                WaitFor("the first flush", () => a.Queue.Pending == 0); // the running flush also takes what arrived meanwhile
                Assert.AreEqual(6, _stored.Count);
                int requests = _http.Count("/events");
                a.TrackPlayerAction("tick");
                now = now.AddSeconds(5);
                a.Tick();
                Assert.AreEqual(requests, _http.Count("/events"), "not yet: the interval has not passed");
                now = now.AddSeconds(6);
                // Ticking as the game loop does, every frame: a tick that lands while the previous flush is
                // finishing joins it, and the next one starts the flush.
                WaitFor("the interval flush", () => { a.Tick(); return a.Queue.Pending == 0; });
                Assert.AreEqual(7, _stored.Count);
            }
        }

        [Test]
        public async Task AWrongKeyKeepsEveryEvent()
        {
            await FlushRefused(403, "{\"message\":\"Forbidden\"}", 4); // a set-up error is not a reason to lose events
            Assert.AreEqual(1, _http.Requests.Count);
        }

        [Test]
        public void ABadEventTypeIsRefusedWhereItIsTracked()
        {
            using (PlayerBehaviorAnalyzer a = Analyzer())
            {
                var e = Assert.Throws<ArgumentException>(() => a.TrackPlayerAction("Level Complete"));
                StringAssert.Contains("type", e.Message);
                Assert.AreEqual(0, a.Queue.Pending);
            }
        }

        [Test]
        public void BehaviourEventsFireWhenAPredictionCrossesItsThreshold()
        {
            using (PlayerBehaviorAnalyzer a = Analyzer())
            {
                var fired = new List<BehaviorEventArgs>();
                a.BehaviorPredicted += (s, e) => fired.Add(e);
                var t = new BehaviorThreshold { Behavior = "churn_risk", Model = "churn", Class = "1", Threshold = 0.7 };
                a.Observe(t, Result(0.4));
                a.Observe(t, Result(0.8));
                a.Observe(t, Result(0.9)); // still above: no second event
                a.Observe(t, Result(0.2));
                a.Observe(t, Result(0.75));
                Assert.AreEqual(2, fired.Count);
                Assert.AreEqual(0.8, fired[0].Score, 1e-12);
                Assert.AreEqual("churn_risk", fired[1].Behavior);
            }
        }

        private static PredictResult Result(double p1)
        {
            return new PredictResult
            {
                Source = PredictionSource.Device,
                Prediction = new Prediction { Label = p1 >= 0.5 ? "1" : "0", Probabilities = new Dictionary<string, double> { { "0", 1 - p1 }, { "1", p1 } } },
            };
        }
    }
}

namespace LiveML.Tests
{
    [TestFixture]
    public class EventFormatTests
    {
        [TestCase("level_complete", true)]
        [TestCase("a.b-c_9", true)]
        [TestCase("Level", false)]
        [TestCase("with space", false)]
        [TestCase("", false)]
        [TestCase("é", false)]
        public void EventTypesFollowTheContract(string type, bool ok)
        {
            Assert.AreEqual(ok, PlayerBehaviorAnalyzer.IsEventType(type));
        }

        [Test]
        public void TimestampsAreIso8601InUtcWithMilliseconds()
        {
            string dir = Fixtures.TempDir();
            try
            {
                var http = new FakeTransport { Handler = r => FakeTransport.Offline() };
                var client = new LiveMLClient(new LiveMLClientOptions { BaseUrl = "http://api.test", Transport = http });
                var at = new DateTime(2026, 3, 4, 5, 6, 7, 89, DateTimeKind.Utc);
                using (var a = new PlayerBehaviorAnalyzer(client, new PlayerBehaviorOptions { PlayerId = "p", Clock = () => at, Queue = new EventQueueOptions { Directory = dir } }))
                {
                    a.TrackPlayerAction("tick");
                    var e = Json.ParseObject(a.Queue.Peek(1).Lines[0]);
                    Assert.AreEqual("2026-03-04T05:06:07.089Z", e["timestamp"]);
                }
            }
            finally { System.IO.Directory.Delete(dir, true); }
        }
    }
}
