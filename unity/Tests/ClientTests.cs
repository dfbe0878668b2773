using System;
using System.Collections.Generic;
using System.Threading.Tasks;
using NUnit.Framework;

namespace LiveML.Tests
{
    [TestFixture]
    public class ClientTests
    {
        private FakeTransport _http;
        private LiveMLClient _client;
        private DateTime _now;

        [SetUp]
        public void SetUp()
        {
            _http = new FakeTransport();
            _now = new DateTime(2026, 12, 1, 10, 0, 0, DateTimeKind.Utc);
            _client = new LiveMLClient(new LiveMLClientOptions
            {
                BaseUrl = "http://api.test/prod/",
                ApiKey = "key-1",
                Transport = _http,
                MaxRetries = 2,
                BreakerThreshold = 2,
                Seed = 1,
                Delay = d => Task.FromResult(0),
                Clock = () => _now,
            });
        }

        private static string Body(string name) { return Json.Serialize(Fixtures.Object("api/" + name + ".json")["body"]); }

        private static Dictionary<string, object> Features()
        {
            var golden = Fixtures.Object("model/golden_requests.json");
            return (Dictionary<string, object>)((Dictionary<string, object>)((List<object>)golden["requests"])[0])["features"];
        }

        private void UseDeviceModel()
        {
            var device = new StaticDevice { Model = CompactModel.Parse(Fixtures.Text("model/model.compact.json")) };
            _client.DeviceModels = device;
        }

        private sealed class StaticDevice : IDeviceModels
        {
            public CompactModel Model;
            public CompactModel Active(string model, out string version) { version = "1"; return model == "churn" ? Model : null; }
        }

        [Test]
        public async Task PredictsThroughTheServerWithTheKey()
        {
            _http.Handler = r => FakeTransport.Answer(200, Body("predict"));
            PredictResult r1 = await _client.PredictAsync("churn", "p-1", Features());
            Assert.AreEqual(PredictionSource.Server, r1.Source);
            Assert.AreEqual("1", r1.ModelVersion);
            Assert.AreEqual("0", r1.Prediction.Label);
            Assert.AreEqual(1.0, r1.Prediction.Probabilities["0"] + r1.Prediction.Probabilities["1"], 1e-6);
            HttpRequest sent = _http.Requests[0];
            Assert.AreEqual("http://api.test/prod/models/churn/predict", sent.Url);
            Assert.AreEqual("key-1", sent.Headers["x-api-key"]);
            var body = Json.ParseObject(sent.Body);
            Assert.AreEqual("p-1", body["player_id"]);
        }

        [Test]
        public async Task ABadRequestIsATypedErrorNamingTheFieldAndIsNeverRetried()
        {
            _http.Handler = r => FakeTransport.Answer(422, Body("error_422"));
            UseDeviceModel();
            PredictResult r1 = await _client.PredictAsync("churn", "p-1", Features());
            Assert.AreEqual(PredictionSource.None, r1.Source);
            Assert.AreEqual(ErrorKind.BadRequest, r1.Error.Kind);
            Assert.AreEqual(422, r1.Error.Status);
            Assert.AreEqual("validation_error", r1.Error.Code);
            CollectionAssert.Contains(r1.Error.Fields, "features.level");
            Assert.AreEqual(1, _http.Requests.Count);
            Assert.IsFalse(_client.Breaker.IsOpen);
        }

        [Test]
        public async Task RetriesServerErrorsThenSucceeds()
        {
            int calls = 0;
            _http.Handler = r => ++calls < 3 ? FakeTransport.Answer(calls == 1 ? 503 : 429, "{}") : FakeTransport.Answer(200, Body("predict"));
            PredictResult r1 = await _client.PredictAsync("churn", "p-1", Features());
            Assert.AreEqual(PredictionSource.Server, r1.Source);
            Assert.AreEqual(3, calls);
        }

        [Test]
        public async Task OfflineFallsBackToTheDeviceModel()
        {
            _http.Handler = r => FakeTransport.Offline();
            UseDeviceModel();
            PredictResult r1 = await _client.PredictAsync("churn", "p-1", Features());
            Assert.AreEqual(PredictionSource.Device, r1.Source);
            Assert.AreEqual(ErrorKind.Unavailable, r1.Error.Kind);
            Assert.AreEqual(3, _http.Requests.Count, "one call and two retries");
        }

        [Test]
        public async Task WithoutADeviceModelTheLastAnswerServesThenATypedFailure()
        {
            _http.Handler = r => FakeTransport.Answer(200, Body("predict"));
            await _client.PredictAsync("churn", "p-1", Features());
            _http.Handler = r => FakeTransport.Answer(502, "bad gateway");
            PredictResult cached = await _client.PredictAsync("churn", "p-1", Features());
            Assert.AreEqual(PredictionSource.Cache, cached.Source);
            Assert.AreEqual("0", cached.Prediction.Label);
            PredictResult none = await _client.PredictAsync("churn", "p-2", Features());
            Assert.AreEqual(PredictionSource.None, none.Source);
            Assert.AreEqual(ErrorKind.Unavailable, none.Error.Kind);
        }

        [Test]
        public async Task TheBreakerOpensThenLetsOneTrialThrough()
        {
            _http.Handler = r => FakeTransport.Offline();
            UseDeviceModel();
            await _client.PredictAsync("churn", "p", Features());
            await _client.PredictAsync("churn", "p", Features());
            Assert.IsTrue(_client.Breaker.IsOpen);
            int before = _http.Requests.Count;
            PredictResult r1 = await _client.PredictAsync("churn", "p", Features());
            Assert.AreEqual(before, _http.Requests.Count, "no call while open");
            Assert.AreEqual(PredictionSource.Device, r1.Source);
            _now = _now.AddSeconds(31);
            _http.Handler = r => FakeTransport.Answer(200, Body("predict"));
            PredictResult r2 = await _client.PredictAsync("churn", "p", Features());
            Assert.AreEqual(PredictionSource.Server, r2.Source);
            Assert.IsFalse(_client.Breaker.IsOpen);
        }

        [Test]
        public async Task BatchAnswersAndFallsBackPerRow()
        {
            _http.Handler = r => FakeTransport.Answer(200, Body("predict_batch"));
            var rows = new List<KeyValuePair<string, IDictionary<string, object>>>();
            for (int i = 0; i < 3; i++) rows.Add(new KeyValuePair<string, IDictionary<string, object>>("p-" + i, Features()));
            List<PredictResult> ok = await _client.PredictBatchAsync("churn", rows);
            Assert.AreEqual(3, ok.Count);
            Assert.IsTrue(ok.TrueForAll(r => r.Source == PredictionSource.Server));
            StringAssert.EndsWith("/models/churn/predict/batch", _http.Requests[0].Url);
            _http.Handler = r => FakeTransport.Offline();
            UseDeviceModel();
            List<PredictResult> off = await _client.PredictBatchAsync("churn", rows);
            Assert.IsTrue(off.TrueForAll(r => r.Source == PredictionSource.Device));
        }

        [Test]
        public void ParsesTheApisErrorBodies()
        {
            var raw = Fixtures.Object("api/error_400.json");
            LiveMLError e = LiveMLError.FromResponse(FakeTransport.Answer(400, Json.Serialize(raw["body"])));
            Assert.AreEqual("bad_request", e.Code);
            CollectionAssert.Contains(e.Fields, "body");
            Assert.IsNotNull(e.CorrelationId);
            LiveMLError html = LiveMLError.FromResponse(FakeTransport.Answer(403, "<html>Forbidden</html>"));
            Assert.AreEqual(ErrorKind.Unauthorized, html.Kind);
        }
    }
}
