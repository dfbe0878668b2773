// The HTTP seam of the core: the client, the model manager and the event queue talk through
// IHttpTransport, so the engine-free core runs on System.Net.Http here and on UnityWebRequest in a game.
using System;
using System.Collections.Generic;
using System.Net.Http;
using System.Text;
using System.Threading;
using System.Threading.Tasks;

namespace LiveML
{
    public sealed class HttpRequest
    {
        public string Method = "GET";
        public string Url;
        public string Body;
        public string ContentType = "application/json";
        public Dictionary<string, string> Headers = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        public TimeSpan Timeout = TimeSpan.FromSeconds(5);
    }

    public sealed class HttpResponse
    {
        /// <summary>The HTTP status, or 0 when no answer came (network error, timeout).</summary>
        public int Status;
        public byte[] Bytes = new byte[0];
        public string Error;

        public string Text { get { return Encoding.UTF8.GetString(Bytes); } }
        public bool IsNetworkError { get { return Status == 0; } }
        /// <summary>429, 5xx and network errors are worth retrying; other 4xx never are.</summary>
        public bool IsRetryable { get { return Status == 0 || Status == 429 || Status >= 500; } }
        public bool IsSuccess { get { return Status >= 200 && Status < 300; } }
    }

    public interface IHttpTransport
    {
        /// <summary>Sends one request; never throws for network failures (Status = 0 instead).</summary>
        Task<HttpResponse> SendAsync(HttpRequest request);
    }

    /// <summary>The transport on System.Net.Http (desktop, mobile, and CI).</summary>
    public sealed class HttpClientTransport : IHttpTransport
    {
        private static readonly HttpClient Shared = new HttpClient { Timeout = System.Threading.Timeout.InfiniteTimeSpan };
        private readonly HttpClient _http;

        public HttpClientTransport() : this(Shared) { }
        public HttpClientTransport(HttpClient http) { _http = http; }

        public async Task<HttpResponse> SendAsync(HttpRequest request)
        {
            using (var cts = new CancellationTokenSource(request.Timeout))
            using (var message = new HttpRequestMessage(new HttpMethod(request.Method), request.Url))
            {
                foreach (var h in request.Headers) message.Headers.TryAddWithoutValidation(h.Key, h.Value);
                if (request.Body != null) message.Content = new StringContent(request.Body, Encoding.UTF8, request.ContentType);
                try
                {
                    using (HttpResponseMessage response = await _http.SendAsync(message, cts.Token).ConfigureAwait(false))
                    {
                        byte[] bytes = await response.Content.ReadAsByteArrayAsync().ConfigureAwait(false);
                        return new HttpResponse { Status = (int)response.StatusCode, Bytes = bytes };
                    }
                }
                catch (OperationCanceledException) { return new HttpResponse { Status = 0, Error = "timed out after " + request.Timeout.TotalSeconds + " s" }; }
                catch (HttpRequestException e) { return new HttpResponse { Status = 0, Error = Innermost(e) }; }
                catch (System.IO.IOException e) { return new HttpResponse { Status = 0, Error = e.Message }; }
                catch (System.Net.WebException e) { return new HttpResponse { Status = 0, Error = e.Message }; }
            }
        }

        private static string Innermost(Exception e)
        {
            while (e.InnerException != null) e = e.InnerException;
            return e.Message;
        }
    }

    /// <summary>Jittered exponential backoff ("full jitter"): a random delay in [0, min(max, base * 2^attempt)].</summary>
    public sealed class Backoff
    {
        private readonly Random _random;
        private readonly object _lock = new object();
        public TimeSpan Base;
        public TimeSpan Max;

        public Backoff(TimeSpan baseDelay, TimeSpan max, int seed)
        {
            Base = baseDelay;
            Max = max;
            _random = new Random(seed);
        }

        public TimeSpan Delay(int attempt)
        {
            double cap = Math.Min(Max.TotalMilliseconds, Base.TotalMilliseconds * Math.Pow(2, Math.Min(attempt, 30)));
            double r;
            lock (_lock) r = _random.NextDouble();
            return TimeSpan.FromMilliseconds(cap * r);
        }
    }

    /// <summary>Closed → (N consecutive failures) → open for a while → half-open: one trial call decides.</summary>
    public sealed class CircuitBreaker
    {
        private readonly object _lock = new object();
        private readonly int _threshold;
        private readonly TimeSpan _openFor;
        private readonly Func<DateTime> _now;
        private int _failures;
        private DateTime _openUntil = DateTime.MinValue;
        private bool _trialInFlight;

        public CircuitBreaker(int threshold, TimeSpan openFor, Func<DateTime> now)
        {
            _threshold = Math.Max(1, threshold);
            _openFor = openFor;
            _now = now ?? (() => DateTime.UtcNow);
        }

        public bool IsOpen { get { lock (_lock) return _failures >= _threshold && _now() < _openUntil; } }

        /// <summary>May a call go to the server now? In the half-open state only one trial call may.</summary>
        public bool Allow()
        {
            lock (_lock)
            {
                if (_failures < _threshold) return true;
                if (_now() < _openUntil || _trialInFlight) return false;
                _trialInFlight = true;
                return true;
            }
        }

        public void Success()
        {
            lock (_lock) { _failures = 0; _trialInFlight = false; }
        }

        public void Failure()
        {
            lock (_lock)
            {
                _failures++;
                _trialInFlight = false;
                if (_failures >= _threshold) _openUntil = _now() + _openFor;
            }
        }
    }
}
