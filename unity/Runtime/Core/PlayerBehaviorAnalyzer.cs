// Player events into the durable queue and on to POST /events; behaviour predictions raised as C#
// events when they cross a configured threshold.
using System;
using System.Collections.Generic;
using System.Globalization;
using System.Text;
using System.Threading.Tasks;

namespace LiveML
{
    public sealed class BehaviorThreshold
    {
        /// <summary>What the game calls it: churn_risk, ready_for_challenge, needs_help, engaged...</summary>
        public string Behavior;
        public string Model;
        /// <summary>The class whose probability is compared (classifiers); null for a regression value.</summary>
        public string Class;
        public double Threshold;
    }

    public sealed class BehaviorEventArgs : EventArgs
    {
        public string Behavior;
        public string PlayerId;
        public double Score;
        public double Threshold;
        public PredictResult Result;
    }

    public sealed class FlushResult
    {
        public int Sent;
        public int Accepted;
        public int Duplicates;
        public int Rejected;
        /// <summary>Why the flush stopped early (the events stay queued), or null.</summary>
        public string Stopped;
    }

    public sealed class PlayerBehaviorOptions
    {
        public string Game;
        public string PlayerId;
        public string SessionId = Guid.NewGuid().ToString("N");
        /// <summary>A flush starts once this many events wait.</summary>
        public int FlushAtCount = 50;
        public TimeSpan FlushInterval = TimeSpan.FromSeconds(10);
        public int MaxBatch = 500;
        public EventQueueOptions Queue = new EventQueueOptions();
        public Action<string> Log;
        public Func<DateTime> Clock;
    }

    public sealed class PlayerBehaviorAnalyzer : IDisposable
    {
        private readonly LiveMLClient _client;
        private readonly PlayerBehaviorOptions _o;
        public readonly EventQueue Queue;
        private readonly object _flushLock = new object();
        private readonly System.Threading.SemaphoreSlim _flushGate = new System.Threading.SemaphoreSlim(1, 1);
        private Task<FlushResult> _flushing;
        private readonly List<BehaviorThreshold> _thresholds = new List<BehaviorThreshold>();
        private readonly Dictionary<string, bool> _above = new Dictionary<string, bool>(StringComparer.Ordinal);
        private int _failures;
        private DateTime _nextAttempt = DateTime.MinValue;
        private readonly Backoff _backoff = new Backoff(TimeSpan.FromSeconds(1), TimeSpan.FromMinutes(5), Environment.TickCount);
        private DateTime _lastFlush;

        /// <summary>Raised when a behaviour prediction crosses its threshold upwards.</summary>
        public event EventHandler<BehaviorEventArgs> BehaviorPredicted;

        public PlayerBehaviorAnalyzer(LiveMLClient client, PlayerBehaviorOptions options)
        {
            _o = Require.Options(client, options, "PlayerId", o => o.PlayerId);
            _client = client;
            Queue = new EventQueue(options.Queue);
            _lastFlush = Now();
        }

        private DateTime Now() { return _o.Clock != null ? _o.Clock() : DateTime.UtcNow; }

        /// <summary>Tracks one player action: written to the queue on disk before this returns; a flush
        /// starts in the background once enough events wait. Never blocks on the network.</summary>
        public string TrackPlayerAction(string type, IDictionary<string, object> properties = null, string model = null)
        {
            if (!IsEventType(type)) throw new ArgumentException("type must be 1-64 characters of [a-z0-9_.-], got '" + type + "'", "type");
            string id = Guid.NewGuid().ToString();
            var sb = new StringBuilder(160);
            sb.Append("{\"event_id\":\"").Append(id).Append("\",\"player_id\":");
            Json.WriteString(sb, _o.PlayerId);
            sb.Append(",\"type\":\"").Append(type).Append("\",\"timestamp\":\"");
            AppendTimestamp(sb, Now().ToUniversalTime());
            sb.Append("\",\"sequence\":").Append(Queue.NextSequence().ToString(CultureInfo.InvariantCulture));
            sb.Append(",\"session_id\":");
            Json.WriteString(sb, _o.SessionId);
            if (model != null) { sb.Append(",\"model\":"); Json.WriteString(sb, model); }
            if (properties != null && properties.Count > 0) { sb.Append(",\"properties\":"); Json.Write(sb, properties); }
            sb.Append('}');
            Queue.Append(sb.ToString());
            if (Queue.Pending >= _o.FlushAtCount) FlushInBackground();
            return id;
        }

        /// <summary>The events contract's type: 1-64 characters of [a-z0-9_.-].</summary>
        public static bool IsEventType(string type)
        {
            if (string.IsNullOrEmpty(type) || type.Length > 64) return false;
            foreach (char c in type)
                if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '.' || c == '-')) return false;
            return true;
        }

        /// <summary>yyyy-MM-ddTHH:mm:ss.fffZ, written by hand: a format string costs more than the rest of an event.</summary>
        private static void AppendTimestamp(StringBuilder sb, DateTime t)
        {
            Pad(sb, t.Year, 4).Append('-');
            Pad(sb, t.Month, 2).Append('-');
            Pad(sb, t.Day, 2).Append('T');
            Pad(sb, t.Hour, 2).Append(':');
            Pad(sb, t.Minute, 2).Append(':');
            Pad(sb, t.Second, 2).Append('.');
            Pad(sb, t.Millisecond, 3).Append('Z');
        }

        private static StringBuilder Pad(StringBuilder sb, int value, int digits)
        {
            for (int d = digits - 1, div = (int)Math.Pow(10, digits - 1); d >= 0; d--, div /= 10) sb.Append((char)('0' + value / div % 10));
            return sb;
        }

        /// <summary>Call from the game loop (the wrapper does, every frame): flushes when the interval has passed.</summary>
        public void Tick()
        {
            if (Queue.Pending > 0 && Now() - _lastFlush >= _o.FlushInterval) FlushInBackground();
        }

        /// <summary>Starts a flush on the thread pool (or returns the running one); the caller never waits on I/O.</summary>
        public Task<FlushResult> FlushInBackground()
        {
            lock (_flushLock)
            {
                if (_flushing != null && !_flushing.IsCompleted) return _flushing;
                _lastFlush = Now();
                _flushing = Task.Run(() => FlushAsync());
                return _flushing;
            }
        }

        /// <summary>Sends every queued event in batches. Honours the per-event answer: accepted and duplicate
        /// events are done, rejected ones are dropped with a log line; on 429/5xx/network errors the batch stays
        /// queued and is resent later with the same event ids (backoff between attempts).</summary>
        public async Task<FlushResult> FlushAsync()
        {
            await _flushGate.WaitAsync().ConfigureAwait(false); // one flush at a time, whoever calls
            try { return await FlushLockedAsync().ConfigureAwait(false); }
            finally { _flushGate.Release(); }
        }

        private async Task<FlushResult> FlushLockedAsync()
        {
            var result = new FlushResult();
            if (Now() < _nextAttempt) { result.Stopped = "backing off until " + _nextAttempt.ToString("o", CultureInfo.InvariantCulture); return result; }
            int size = Math.Max(1, Math.Min(_o.MaxBatch, 500));
            while (true)
            {
                EventBatch batch = Queue.Peek(size);
                if (batch.Count == 0) break;
                var body = new StringBuilder(batch.Count * 200);
                body.Append('{');
                if (!string.IsNullOrEmpty(_o.Game)) { body.Append("\"game\":"); Json.WriteString(body, _o.Game); body.Append(','); }
                body.Append("\"events\":[");
                for (int i = 0; i < batch.Count; i++) { if (i > 0) body.Append(','); body.Append(batch.Lines[i]); }
                body.Append("]}");
                HttpResponse r = await _client.Transport.SendAsync(_client.NewRequest("POST", _client.Url("/events"), body.ToString())).ConfigureAwait(false);
                if (r.IsSuccess)
                {
                    _failures = 0;
                    _nextAttempt = DateTime.MinValue;
                    result.Sent += batch.Count;
                    ReadAnswer(r, batch, result);
                    Queue.Commit(batch);
                    continue;
                }
                if (r.IsRetryable)
                {
                    _nextAttempt = Now() + _backoff.Delay(_failures++);
                    result.Stopped = r.Status == 0 ? (r.Error ?? "network error") : "HTTP " + r.Status;
                    Log("events: flush deferred (" + result.Stopped + "), " + Queue.Pending + " queued");
                    break;
                }
                if (r.Status != 400 && r.Status != 413 && r.Status != 415 && r.Status != 422)
                {
                    // 401/403 (the key), 404 (the route): the events are fine, the set-up is not. Keep them.
                    _nextAttempt = Now() + _backoff.Delay(_failures++);
                    result.Stopped = "HTTP " + r.Status + ": " + LiveMLError.FromResponse(r).Message;
                    Log("events: the API refuses the batch (" + result.Stopped + "); " + Queue.Pending + " stay queued");
                    break;
                }
                // A whole-batch refusal (413 too big, 422 too many/ill-shaped, 400, 415): split until the bad event is alone.
                if (batch.Count > 1) { size = Math.Max(1, batch.Count / 2); continue; }
                LiveMLError e = LiveMLError.FromResponse(r);
                Log("events: dropped 1 event the API refuses: " + e);
                result.Rejected++;
                Queue.Commit(batch);
            }
            return result;
        }

        private void ReadAnswer(HttpResponse r, EventBatch batch, FlushResult result)
        {
            try
            {
                var a = Json.ParseObject(r.Text);
                result.Accepted += (int)Json.GetDouble(a, "accepted", 0);
                result.Duplicates += (int)Json.GetDouble(a, "duplicates", 0);
                var rejected = Json.GetList(a, "rejected");
                if (rejected == null) return;
                foreach (object o in rejected)
                {
                    var rej = o as Dictionary<string, object>;
                    result.Rejected++;
                    Log("events: the API rejected event " + Json.GetString(rej, "event_id") + " (#" + Json.GetDouble(rej, "index", -1) + "): " + Json.GetString(rej, "reason"));
                }
            }
            catch (JsonException e) { Log("events: unreadable answer (" + e.Message + "); the batch counts as delivered"); }
        }

        // --- behaviour predictions -----------------------------------------------------------------

        public void AddThreshold(BehaviorThreshold threshold) { lock (_thresholds) _thresholds.Add(threshold); }

        /// <summary>Predicts each configured behaviour for this player and raises <see cref="BehaviorPredicted"/>
        /// for those that crossed their threshold upwards since the last call.</summary>
        public async Task<List<PredictResult>> PredictBehaviorsAsync(IDictionary<string, object> features)
        {
            List<BehaviorThreshold> all;
            lock (_thresholds) all = new List<BehaviorThreshold>(_thresholds);
            var results = new List<PredictResult>();
            var byModel = new Dictionary<string, PredictResult>(StringComparer.Ordinal);
            foreach (BehaviorThreshold t in all)
            {
                PredictResult r;
                if (!byModel.TryGetValue(t.Model, out r))
                {
                    r = await _client.PredictAsync(t.Model, _o.PlayerId, features).ConfigureAwait(false);
                    byModel[t.Model] = r;
                    results.Add(r);
                }
                Observe(t, r);
            }
            return results;
        }

        /// <summary>Checks one prediction against a threshold (use it for predictions the game made itself).</summary>
        public void Observe(BehaviorThreshold t, PredictResult r)
        {
            if (r == null || !r.Ok) return;
            double score;
            if (t.Class == null) score = r.Prediction.Value;
            else if (r.Prediction.Probabilities == null || !r.Prediction.Probabilities.TryGetValue(t.Class, out score)) return;
            bool above = score >= t.Threshold;
            bool was;
            lock (_above)
            {
                _above.TryGetValue(t.Behavior, out was);
                _above[t.Behavior] = above;
            }
            if (above && !was)
            {
                EventHandler<BehaviorEventArgs> handler = BehaviorPredicted;
                if (handler != null) handler(this, new BehaviorEventArgs { Behavior = t.Behavior, PlayerId = _o.PlayerId, Score = score, Threshold = t.Threshold, Result = r });
            }
        }

        private void Log(string message)
        {
            if (_o.Log != null) _o.Log("[LiveML] " + message);
        }

        public void Dispose() { Queue.Dispose(); }
    }
}
