// Predictions for named models: the server first, with retries and a circuit breaker; when it cannot
// answer, the on-device model, then the player's last answer, else a typed failure.
using System;
using System.Collections.Generic;
using System.Globalization;
using System.Threading.Tasks;

namespace LiveML
{
    /// <summary>Where an answer came from; <see cref="None"/> means there is no answer (see the error).</summary>
    public enum PredictionSource { Server, Device, Cache, None }

    public enum ErrorKind
    {
        /// <summary>The API refused the request (4xx): <see cref="LiveMLError.Fields"/> names what is wrong.</summary>
        BadRequest,
        /// <summary>403 or 401: the API key is missing or wrong.</summary>
        Unauthorized,
        /// <summary>No server answer (network, timeout, 429/5xx after retries, breaker open) and no fallback.</summary>
        Unavailable,
        /// <summary>The server answered something that is not a prediction.</summary>
        BadResponse,
    }

    /// <summary>A typed failure; for 4xx answers it carries the API's error body.</summary>
    public sealed class LiveMLError
    {
        public ErrorKind Kind;
        public int Status;
        public string Code;
        public string Message;
        public List<string> Fields = new List<string>();
        public string CorrelationId;

        public override string ToString()
        {
            return Kind + " (" + Status + " " + Code + "): " + Message + (Fields.Count > 0 ? " [" + string.Join(", ", Fields.ToArray()) + "]" : "");
        }

        public static LiveMLError FromResponse(HttpResponse r)
        {
            var e = new LiveMLError { Status = r.Status, Kind = r.Status == 401 || r.Status == 403 ? ErrorKind.Unauthorized : ErrorKind.BadRequest };
            try
            {
                var body = Json.ParseObject(r.Text);
                e.Code = Json.GetString(body, "error");
                e.Message = Json.GetString(body, "message");
                e.CorrelationId = Json.GetString(body, "correlation_id");
                var fields = Json.GetList(body, "fields");
                if (fields != null)
                    foreach (object f in fields)
                    {
                        var s = f as string;
                        var o = f as Dictionary<string, object>;
                        if (s != null) e.Fields.Add(s);
                        else if (o != null && Json.GetString(o, "field") != null) e.Fields.Add(Json.GetString(o, "field"));
                    }
            }
            catch (JsonException) { e.Message = "HTTP " + r.Status + ": " + Truncate(r.Text, 200); }
            if (e.Message == null) e.Message = "HTTP " + r.Status;
            return e;
        }

        private static string Truncate(string s, int n) { return s.Length <= n ? s : s.Substring(0, n); }
    }

    public sealed class PredictResult
    {
        public PredictionSource Source;
        public string Model;
        public string PlayerId;
        public Prediction Prediction;
        public string ModelVersion;
        public string Variant;
        /// <summary>Why the server did not answer (also set when a fallback did).</summary>
        public LiveMLError Error;

        public bool Ok { get { return Source != PredictionSource.None; } }
    }

    /// <summary>What the client falls back to: the on-device model of a named model (the ModelManager).</summary>
    public interface IDeviceModels
    {
        /// <summary>The active compact model of <paramref name="model"/> and its version, or null.</summary>
        CompactModel Active(string model, out string version);
    }

    public sealed class LiveMLClientOptions
    {
        public string BaseUrl;
        public string ApiKey;
        public TimeSpan Timeout = TimeSpan.FromSeconds(3);
        public int MaxRetries = 2;
        public TimeSpan BackoffBase = TimeSpan.FromMilliseconds(200);
        public TimeSpan BackoffMax = TimeSpan.FromSeconds(5);
        public int BreakerThreshold = 3;
        public TimeSpan BreakerOpenFor = TimeSpan.FromSeconds(30);
        public int CachedAnswers = 1000;
        public int Seed = Environment.TickCount;
        public IHttpTransport Transport;
        /// <summary>Waits between retries (tests pass one that does not sleep).</summary>
        public Func<TimeSpan, Task> Delay;
        public Func<DateTime> Clock;
    }

    /// <summary>What the components built on a client check first: the client and the options are given,
    /// and the option they cannot work without is set. An argument error names what is missing.</summary>
    internal static class Require
    {
        public static T Options<T>(LiveMLClient client, T options, string name, Func<T, string> value) where T : class
        {
            if (client == null) throw new ArgumentNullException("client");
            if (options == null) throw new ArgumentNullException("options");
            if (string.IsNullOrEmpty(value(options))) throw new ArgumentException(name + " is required", "options");
            return options;
        }
    }

    public sealed class LiveMLClient
    {
        private readonly LiveMLClientOptions _o;
        private readonly IHttpTransport _http;
        private readonly Backoff _backoff;
        private readonly Func<TimeSpan, Task> _delay;
        public readonly CircuitBreaker Breaker;
        private readonly Dictionary<string, PredictResult> _cache = new Dictionary<string, PredictResult>(StringComparer.Ordinal);
        private readonly Queue<string> _cacheOrder = new Queue<string>();
        private readonly object _cacheLock = new object();

        /// <summary>The device fallback; the ModelManager sets itself here.</summary>
        public IDeviceModels DeviceModels;

        public LiveMLClient(LiveMLClientOptions options)
        {
            if (options == null || string.IsNullOrEmpty(options.BaseUrl)) throw new ArgumentException("BaseUrl is required", "options");
            _o = options;
            _http = options.Transport ?? new HttpClientTransport();
            _backoff = new Backoff(options.BackoffBase, options.BackoffMax, options.Seed);
            _delay = options.Delay ?? (d => Task.Delay(d));
            Breaker = new CircuitBreaker(options.BreakerThreshold, options.BreakerOpenFor, options.Clock);
        }

        public IHttpTransport Transport { get { return _http; } }
        public string BaseUrl { get { return _o.BaseUrl.TrimEnd('/'); } }

        public string Url(string path) { return BaseUrl + path; }

        public static string Escape(string segment) { return Uri.EscapeDataString(segment); }

        /// <summary>A request with the API key and the client's timeout.</summary>
        public HttpRequest NewRequest(string method, string url, string body)
        {
            var r = new HttpRequest { Method = method, Url = url, Body = body, Timeout = _o.Timeout };
            if (!string.IsNullOrEmpty(_o.ApiKey)) r.Headers["x-api-key"] = _o.ApiKey;
            return r;
        }

        /// <summary>Sends with retries on 429/5xx/network errors only, through the circuit breaker.
        /// Returns the last answer (Status 0 when none came or the breaker is open).</summary>
        public async Task<HttpResponse> SendWithRetriesAsync(HttpRequest request)
        {
            if (!Breaker.Allow()) return new HttpResponse { Status = 0, Error = "circuit breaker open" };
            HttpResponse last = null;
            for (int attempt = 0; attempt <= _o.MaxRetries; attempt++)
            {
                if (attempt > 0) await _delay(_backoff.Delay(attempt - 1)).ConfigureAwait(false);
                last = await _http.SendAsync(request).ConfigureAwait(false);
                if (!last.IsRetryable) break;
            }
            if (last.IsRetryable) Breaker.Failure();
            else Breaker.Success();
            return last;
        }

        public async Task<PredictResult> PredictAsync(string model, string playerId, IDictionary<string, object> features)
        {
            var body = new Dictionary<string, object> { { "player_id", playerId }, { "features", features } };
            HttpResponse r = await SendWithRetriesAsync(NewRequest("POST", Url("/models/" + Escape(model) + "/predict"), Json.Serialize(body))).ConfigureAwait(false);
            if (r.IsSuccess)
            {
                try
                {
                    PredictResult result = ParseAnswer(model, Json.ParseObject(r.Text));
                    Remember(result);
                    return result;
                }
                catch (Exception e)
                {
                    if (!(e is JsonException) && !(e is InvalidCastException) && !(e is KeyNotFoundException)) throw;
                    return Fallback(model, playerId, features, new LiveMLError { Kind = ErrorKind.BadResponse, Status = r.Status, Message = "not a prediction: " + e.Message });
                }
            }
            if (!r.IsRetryable) return new PredictResult { Source = PredictionSource.None, Model = model, PlayerId = playerId, Error = LiveMLError.FromResponse(r) };
            return Fallback(model, playerId, features, Unavailable(r));
        }

        public async Task<List<PredictResult>> PredictBatchAsync(string model, IList<KeyValuePair<string, IDictionary<string, object>>> rows)
        {
            var items = new List<object>();
            foreach (var row in rows) items.Add(new Dictionary<string, object> { { "player_id", row.Key }, { "features", row.Value } });
            var body = new Dictionary<string, object> { { "rows", items } };
            HttpResponse r = await SendWithRetriesAsync(NewRequest("POST", Url("/models/" + Escape(model) + "/predict/batch"), Json.Serialize(body))).ConfigureAwait(false);
            var results = new List<PredictResult>();
            if (r.IsSuccess)
            {
                try
                {
                    var preds = Json.GetList(Json.ParseObject(r.Text), "predictions");
                    if (preds == null || preds.Count != rows.Count) throw new JsonException("expected " + rows.Count + " predictions");
                    foreach (object p in preds)
                    {
                        PredictResult result = ParseAnswer(model, (Dictionary<string, object>)p);
                        Remember(result);
                        results.Add(result);
                    }
                    return results;
                }
                catch (JsonException e)
                {
                    r = new HttpResponse { Status = 0, Error = "not a batch answer: " + e.Message };
                }
            }
            if (!r.IsSuccess && !r.IsRetryable)
            {
                LiveMLError error = LiveMLError.FromResponse(r);
                foreach (var row in rows) results.Add(new PredictResult { Source = PredictionSource.None, Model = model, PlayerId = row.Key, Error = error });
                return results;
            }
            LiveMLError why = Unavailable(r);
            foreach (var row in rows) results.Add(Fallback(model, row.Key, row.Value, why));
            return results;
        }

        private static LiveMLError Unavailable(HttpResponse r)
        {
            return new LiveMLError { Kind = ErrorKind.Unavailable, Status = r.Status, Message = r.Status == 0 ? (r.Error ?? "no answer") : "HTTP " + r.Status };
        }

        private PredictResult Fallback(string model, string playerId, IDictionary<string, object> features, LiveMLError why)
        {
            string version = null;
            CompactModel device = DeviceModels == null ? null : DeviceModels.Active(model, out version);
            if (device != null)
            {
                try
                {
                    return new PredictResult { Source = PredictionSource.Device, Model = model, PlayerId = playerId, Prediction = device.Predict(features), ModelVersion = version, Error = why };
                }
                catch (FeatureException e)
                {
                    return new PredictResult { Source = PredictionSource.None, Model = model, PlayerId = playerId, Error = new LiveMLError { Kind = ErrorKind.BadRequest, Message = e.Message, Fields = new List<string> { e.Field } } };
                }
            }
            PredictResult cached;
            lock (_cacheLock) _cache.TryGetValue(model + "\n" + playerId, out cached);
            if (cached != null)
                return new PredictResult { Source = PredictionSource.Cache, Model = model, PlayerId = playerId, Prediction = cached.Prediction, ModelVersion = cached.ModelVersion, Variant = cached.Variant, Error = why };
            return new PredictResult { Source = PredictionSource.None, Model = model, PlayerId = playerId, Error = why };
        }

        private void Remember(PredictResult result)
        {
            string key = result.Model + "\n" + result.PlayerId;
            lock (_cacheLock)
            {
                if (!_cache.ContainsKey(key))
                {
                    _cacheOrder.Enqueue(key);
                    while (_cacheOrder.Count > Math.Max(1, _o.CachedAnswers)) _cache.Remove(_cacheOrder.Dequeue());
                }
                _cache[key] = result;
            }
        }

        /// <summary>A server answer (today's /predict body, plus "model") as a result.</summary>
        public static PredictResult ParseAnswer(string model, Dictionary<string, object> a)
        {
            var p = new Prediction();
            var probs = Json.GetObject(a, "probabilities");
            if (probs != null)
            {
                p.Probabilities = new Dictionary<string, double>(StringComparer.Ordinal);
                foreach (var kv in probs) p.Probabilities[kv.Key] = (double)kv.Value;
                p.Label = Convert.ToString(Json.Get(a, "prediction"), CultureInfo.InvariantCulture);
                p.Confidence = Json.GetDouble(a, "confidence", double.NaN);
            }
            else
            {
                object v = Json.Get(a, "value") ?? Json.Get(a, "prediction");
                if (!(v is double)) throw new JsonException("no probabilities and no value");
                p.IsRegression = true;
                p.Value = (double)v;
            }
            return new PredictResult
            {
                Source = PredictionSource.Server,
                Model = Json.GetString(a, "model") ?? model,
                PlayerId = Json.GetString(a, "player_id"),
                Prediction = p,
                ModelVersion = Convert.ToString(Json.Get(a, "model_version"), CultureInfo.InvariantCulture),
                Variant = Json.GetString(a, "variant"),
            };
        }
    }
}
