// The end-to-end journey of the C# client against the real serving app (driven by tests/unity/e2e.py,
// which owns the server): prints "CHECK <name> ok|FAIL ...", asks the harness to change the world with
// "WAIT <what>" and continues when it answers on stdin. Exit code 0 when every check passed.
using System;
using System.Collections.Generic;
using System.Threading;
using System.Threading.Tasks;
using LiveML;

public static class E2E
{
    private static int _failures;

    private static void Check(string name, bool ok, string detail)
    {
        if (!ok) _failures++;
        Console.WriteLine("CHECK " + name + " " + (ok ? "ok" : "FAIL") + (detail != null ? " " + detail : ""));
    }

    private static void Wait(string what)
    {
        Console.WriteLine("WAIT " + what);
        Console.Out.Flush();
        string answer = Console.ReadLine();
        if (answer != "ok") throw new Exception("the harness answered '" + answer + "' to " + what);
    }

    public static int Main(string[] args)
    {
        try { return Run(args[0], args[1], args[2]).GetAwaiter().GetResult(); }
        catch (Exception e) { Console.WriteLine("CHECK unexpected FAIL " + e); return 1; }
    }

    private static async Task<int> Run(string baseUrl, string workDir, string apiKey)
    {
        var logs = new List<string>();
        Action<string> log = m => { lock (logs) logs.Add(m); Console.WriteLine("  log: " + m); };
        var client = new LiveMLClient(new LiveMLClientOptions
        {
            BaseUrl = baseUrl, ApiKey = apiKey, Timeout = TimeSpan.FromSeconds(5), MaxRetries = 1,
            BackoffBase = TimeSpan.FromMilliseconds(50), BreakerThreshold = 3, BreakerOpenFor = TimeSpan.FromSeconds(1),
        });
        var models = new ModelManager(client, new ModelManagerOptions { Models = new[] { "churn" }, Directory = workDir + "/models", Log = log });
        var updates = new List<ModelUpdatedEventArgs>();
        models.ModelUpdated += (s, e) => { lock (updates) updates.Add(e); };
        var analyzer = new PlayerBehaviorAnalyzer(client, new PlayerBehaviorOptions
        {
            PlayerId = "e2e-player", Game = "e2e", FlushAtCount = 1000000, Queue = new EventQueueOptions { Directory = workDir + "/events" }, Log = log,
        });

        // 1. The device model: downloaded, sha256-checked, sanity-checked on the golden requests.
        List<SyncResult> sync = await models.SyncAllAsync();
        Check("sync_v1", sync[0].Outcome == SyncOutcome.Updated && sync[0].Version == "1", sync[0].ToString());

        string version;
        CompactModel device = models.Active("churn", out version);
        Dictionary<string, object> features = GoldenFeatures(workDir + "/golden.json");

        // 2. A prediction from the server, which the device model reproduces.
        PredictResult server = await client.PredictAsync("churn", "e2e-player", features);
        Check("predict_server", server.Source == PredictionSource.Server && server.ModelVersion == "1", Describe(server));
        double serverP1 = server.Prediction.Probabilities["1"];
        double deviceP1 = device.Predict(features).Probabilities["1"];
        Check("device_matches_server", Math.Abs(serverP1 - deviceP1) <= 1e-4, "server " + serverP1 + " device " + deviceP1);

        // 3. A bad request: a typed 4xx naming the field, never retried, no fallback.
        var bad = new Dictionary<string, object>(features);
        bad["level"] = "high";
        PredictResult refused = await client.PredictAsync("churn", "e2e-player", bad);
        Check("bad_request_typed", refused.Source == PredictionSource.None && refused.Error != null && refused.Error.Kind == ErrorKind.BadRequest
              && refused.Error.Status == 422 && refused.Error.Fields.Contains("features.level"), refused.Error == null ? "no error" : refused.Error.ToString());
        PredictResult unknown = await client.PredictAsync("no-such-model", "e2e-player", features);
        Check("unknown_model_typed", unknown.Error != null && unknown.Error.Status == 404 && unknown.Error.Fields.Contains("model"), unknown.Error == null ? "no error" : unknown.Error.ToString());

        // 4. Events while online.
        for (int i = 0; i < 20; i++) analyzer.TrackPlayerAction("level_complete", new Dictionary<string, object> { { "level", i }, { "stars", 3 } });
        analyzer.TrackPlayerAction("purchase", new Dictionary<string, object> { { "deep", Nest(6) } }); // too deep: rejected by the server
        FlushResult online = await analyzer.FlushInBackground();
        Check("events_online", online.Accepted == 20 && online.Rejected == 1 && analyzer.Queue.Pending == 0, Describe(online));

        // 5. The server is gone: the device model answers; events wait on disk.
        Wait("stop-server");
        PredictResult offline = await client.PredictAsync("churn", "e2e-player", features);
        Check("offline_device", offline.Source == PredictionSource.Device && offline.ModelVersion == "1"
              && Math.Abs(offline.Prediction.Probabilities["1"] - serverP1) <= 1e-4 && offline.Error.Kind == ErrorKind.Unavailable, Describe(offline));
        for (int i = 0; i < 30; i++) analyzer.TrackPlayerAction("session_end", new Dictionary<string, object> { { "minutes", 1.5 * i } });
        FlushResult deferred = await analyzer.FlushAsync();
        Check("events_kept_offline", deferred.Sent == 0 && deferred.Stopped != null && analyzer.Queue.Pending == 30, Describe(deferred));
        SyncResult noSync = await models.SyncAsync("churn");
        Check("sync_offline_keeps_model", noSync.Outcome == SyncOutcome.Unavailable && models.ActiveVersion("churn") == "1", noSync.ToString());

        // 6. The server is back with version 2: hot swap after the sha256 check; queued events go out.
        Wait("start-server-v2");
        Thread.Sleep(1100); // the breaker's open period
        SyncResult v2 = await models.SyncAsync("churn");
        Check("hot_swap_v2", v2.Outcome == SyncOutcome.Updated && models.ActiveVersion("churn") == "2" && updates.Count == 2 && updates[1].PreviousVersion == "1", v2.ToString());
        PredictResult back = await client.PredictAsync("churn", "e2e-player", features);
        Check("predict_server_v2", back.Source == PredictionSource.Server && back.ModelVersion == "2", Describe(back));
        double deviceV2 = models.Active("churn", out version).Predict(features).Probabilities["1"];
        Check("device_v2_matches_server", Math.Abs(back.Prediction.Probabilities["1"] - deviceV2) <= 1e-4, "server " + back.Prediction.Probabilities["1"] + " device " + deviceV2);
        await Task.Delay(TimeSpan.FromSeconds(1.1)); // the event flush's own backoff after the failure
        FlushResult later = await analyzer.FlushAsync();
        Check("events_after_return", later.Accepted == 30 && analyzer.Queue.Pending == 0, Describe(later));

        analyzer.Dispose();
        Console.WriteLine("RESULT tracked=51 delivered=50 failures=" + _failures);
        return _failures == 0 ? 0 : 1;
    }

    private static object Nest(int depth)
    {
        object v = 1.0;
        for (int i = 0; i < depth; i++) v = new Dictionary<string, object> { { "x", v } };
        return v;
    }

    private static Dictionary<string, object> GoldenFeatures(string path)
    {
        var golden = Json.ParseObject(System.IO.File.ReadAllText(path));
        return (Dictionary<string, object>)((Dictionary<string, object>)((List<object>)golden["requests"])[0])["features"];
    }

    private static string Describe(PredictResult r)
    {
        return "source=" + r.Source + " version=" + r.ModelVersion + (r.Error != null ? " error=" + r.Error : "");
    }

    private static string Describe(FlushResult f)
    {
        return "sent=" + f.Sent + " accepted=" + f.Accepted + " duplicates=" + f.Duplicates + " rejected=" + f.Rejected + " stopped=" + f.Stopped;
    }
}
