using System;
using System.Collections.Generic;
using System.IO;
using System.Text;
using System.Threading.Tasks;
using NUnit.Framework;

namespace LiveML.Tests
{
    [TestFixture]
    public class ModelManagerTests
    {
        private FakeTransport _http;
        private LiveMLClient _client;
        private string _dir;
        private byte[] _compact;
        private byte[] _golden;
        private string _version;
        private byte[] _served;

        [SetUp]
        public void SetUp()
        {
            _dir = Fixtures.TempDir();
            _compact = Fixtures.Bytes("model/model.compact.json");
            _golden = Fixtures.Bytes("model/golden_requests.json");
            _served = _compact;
            _version = "1";
            _http = new FakeTransport { Handler = Route };
            _client = new LiveMLClient(new LiveMLClientOptions { BaseUrl = "http://api.test", Transport = _http, Delay = d => Task.FromResult(0), MaxRetries = 0 });
        }

        [TearDown]
        public void TearDown() { Directory.Delete(_dir, true); }

        private HttpResponse Route(HttpRequest r)
        {
            if (r.Url.Contains("/models/churn/latest"))
            {
                var latest = new Dictionary<string, object>
                {
                    { "model", "churn" }, { "version", _version }, { "variant", "default" },
                    { "compact", new Dictionary<string, object> { { "url", "http://s3.test/compact-" + _version }, { "sha256", ModelManager.Sha256Hex(_compact) } } },
                    { "golden", new Dictionary<string, object> { { "url", "/files/golden" }, { "sha256", ModelManager.Sha256Hex(_golden) } } },
                };
                return FakeTransport.Answer(200, Json.Serialize(latest));
            }
            if (r.Url.StartsWith("http://s3.test/compact-")) return FakeTransport.Answer(200, _served);
            if (r.Url == "http://api.test/files/golden") return FakeTransport.Answer(200, _golden);
            return FakeTransport.Answer(404, "{}");
        }

        [Test]
        public void MissingClientOrOptionsAreArgumentErrorsNamingThem()
        {
            Assert.AreEqual("options", Assert.Throws<ArgumentNullException>(() => new ModelManager(_client, null)).ParamName);
            Assert.AreEqual("client", Assert.Throws<ArgumentNullException>(() => new ModelManager(null, new ModelManagerOptions { Directory = _dir })).ParamName);
            StringAssert.Contains("Directory is required", Assert.Throws<ArgumentException>(() => new ModelManager(_client, new ModelManagerOptions())).Message);
            Assert.AreEqual("options", Assert.Throws<ArgumentNullException>(() => new PlayerBehaviorAnalyzer(_client, null)).ParamName);
            StringAssert.Contains("PlayerId is required", Assert.Throws<ArgumentException>(() => new PlayerBehaviorAnalyzer(_client, new PlayerBehaviorOptions())).Message);
        }

        private ModelManager Manager(Activation activation)
        {
            return new ModelManager(_client, new ModelManagerOptions { Models = new[] { "churn" }, Directory = _dir, Activation = activation });
        }

        /// <summary>The same model with its version changed: different bytes, a different sha256, same outputs.</summary>
        private void PublishVersion(string version)
        {
            var doc = Json.ParseObject(Encoding.UTF8.GetString(Fixtures.Bytes("model/model.compact.json")));
            doc["note"] = "v" + version;
            _compact = Encoding.UTF8.GetBytes(Json.Serialize(doc));
            _served = _compact;
            _version = version;
        }

        [Test]
        public async Task DownloadsVerifiesAndActivatesRaisingModelUpdated()
        {
            ModelManager m = Manager(Activation.Immediately);
            var updates = new List<ModelUpdatedEventArgs>();
            m.ModelUpdated += (s, e) => updates.Add(e);
            SyncResult r = await m.SyncAsync("churn");
            Assert.AreEqual(SyncOutcome.Updated, r.Outcome, r.ToString());
            Assert.AreEqual("1", m.ActiveVersion("churn"));
            Assert.AreEqual(1, updates.Count);
            Assert.AreEqual(SyncOutcome.Unchanged, (await m.SyncAsync("churn")).Outcome);
            PublishVersion("2");
            Assert.AreEqual(SyncOutcome.Updated, (await m.SyncAsync("churn")).Outcome);
            Assert.AreEqual("2", m.ActiveVersion("churn"));
            Assert.AreEqual("1", updates[1].PreviousVersion);
        }

        [Test]
        public async Task ACorruptDownloadNeverReplacesTheGoodModel()
        {
            ModelManager m = Manager(Activation.Immediately);
            await m.SyncAsync("churn");
            PublishVersion("2");
            _served = Encoding.UTF8.GetBytes("{\"truncated\":");
            SyncResult r = await m.SyncAsync("churn");
            Assert.AreEqual(SyncOutcome.Rejected, r.Outcome);
            StringAssert.Contains("sha256", r.Reason);
            Assert.AreEqual("1", m.ActiveVersion("churn"));
            ModelManager next = Manager(Activation.Immediately);
            next.LoadFromDisk();
            Assert.AreEqual("1", next.ActiveVersion("churn"), "the file on disk is still the good one");
        }

        [Test]
        public async Task AModelThatFailsTheGoldenRequestsIsRefused()
        {
            ModelManager m = Manager(Activation.Immediately);
            await m.SyncAsync("churn");
            var doc = Json.ParseObject(Encoding.UTF8.GetString(_compact));
            var intercept = (List<object>)((Dictionary<string, object>)doc["model"])["intercept"];
            intercept[0] = (double)intercept[0] + 0.5; // loads fine, answers wrongly
            _compact = Encoding.UTF8.GetBytes(Json.Serialize(doc));
            _served = _compact;
            _version = "3";
            SyncResult r = await m.SyncAsync("churn");
            Assert.AreEqual(SyncOutcome.Rejected, r.Outcome);
            StringAssert.Contains("golden request", r.Reason);
            Assert.AreEqual("1", m.ActiveVersion("churn"));
        }

        [Test]
        public async Task NextSessionActivationStagesTheModel()
        {
            ModelManager m = Manager(Activation.NextSession);
            Assert.AreEqual(SyncOutcome.Updated, (await m.SyncAsync("churn")).Outcome, "nothing to keep: the first model serves at once");
            PublishVersion("2");
            Assert.AreEqual(SyncOutcome.Staged, (await m.SyncAsync("churn")).Outcome);
            Assert.AreEqual("1", m.ActiveVersion("churn"));
            ModelManager nextSession = Manager(Activation.NextSession);
            nextSession.LoadFromDisk();
            Assert.AreEqual("2", nextSession.ActiveVersion("churn"));
        }

        [Test]
        public async Task AModelDamagedOnDiskRollsBackToTheLastKnownGood()
        {
            ModelManager m = Manager(Activation.Immediately);
            await m.SyncAsync("churn");
            PublishVersion("2");
            await m.SyncAsync("churn");
            string file = Path.Combine(_dir, "churn", ModelManager.Sha256Hex(_compact) + ".compact.json");
            Assert.IsTrue(File.Exists(file));
            File.WriteAllText(file, "{\"format\":\"liveml.compact\""); // a damaged disk
            ModelManager next = Manager(Activation.Immediately);
            next.LoadFromDisk();
            Assert.AreEqual("1", next.ActiveVersion("churn"));
        }

        [Test]
        public async Task ReadsTheServersLatestAnswer()
        {
            // The real app's /models/latest for a model served from a local directory: no download URL.
            var latest = Fixtures.Object("api/latest.json");
            _http.Handler = r => FakeTransport.Answer(200, Json.Serialize(latest["body"]));
            SyncResult r1 = await Manager(Activation.Immediately).SyncAsync("churn");
            Assert.AreEqual(SyncOutcome.NoDeviceModel, r1.Outcome, r1.ToString());
            Assert.AreEqual("1", r1.Version);
            var body = (Dictionary<string, object>)latest["body"];
            Assert.AreEqual(64, Json.GetString(Json.GetObject(body, "compact"), "sha256").Length, "the compact model is announced with its sha256");
        }

        [Test]
        public async Task AWriteKilledHalfwayLeavesNothingBehind()
        {
            ModelManager m = Manager(Activation.Immediately);
            await m.SyncAsync("churn");
            string tmp = Path.Combine(_dir, "churn", "abc.compact.json.tmp-0123");
            File.WriteAllText(tmp, "{\"form");
            ModelManager next = Manager(Activation.Immediately);
            next.LoadFromDisk();
            Assert.IsFalse(File.Exists(tmp));
            Assert.AreEqual("1", next.ActiveVersion("churn"));
        }

        [Test]
        public async Task AVersionWithoutACompactModelChangesNothing()
        {
            _http.Handler = r => FakeTransport.Answer(200, "{\"model\":\"churn\",\"version\":\"9\",\"compact\":null}");
            ModelManager m = Manager(Activation.Immediately);
            Assert.AreEqual(SyncOutcome.NoDeviceModel, (await m.SyncAsync("churn")).Outcome);
            _http.Handler = r => FakeTransport.Offline();
            Assert.AreEqual(SyncOutcome.Unavailable, (await m.SyncAsync("churn")).Outcome);
        }
    }
}
