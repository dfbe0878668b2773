// The Unity core's figures on this machine (Mono): median of repeated runs, printed one per line.
//   track_event_us      TrackPlayerAction: one event serialised and appended to the durable queue
//   compact_predict_us  one row through a 100-tree gradient-boosting compact model (pre-graph included)
//   queue_flush_500_ms  500 queued events read, sent as one batch to a local HTTP endpoint, committed
//   alloc_bytes_per_event  managed bytes allocated per tracked event (GC.GetAllocatedBytesForCurrentThread)
// and the naive baseline beside each: one settings string rewritten per event (the PlayerPrefs pattern).
using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Linq;
using System.Net;
using System.Text;
using System.Threading;
using LiveML;

public static class Bench
{
    private static double Median(List<double> xs)
    {
        xs.Sort();
        int n = xs.Count;
        return n % 2 == 1 ? xs[n / 2] : (xs[n / 2 - 1] + xs[n / 2]) / 2;
    }

    public static int Main(string[] args)
    {
        string fixtures = args[0];
        string dir = Path.Combine(Path.GetTempPath(), "liveml-bench-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dir);
        try
        {
            Run(fixtures, dir);
            return 0;
        }
        finally { Directory.Delete(dir, true); }
    }

    private static void Run(string fixtures, string dir)
    {
        // --- compact_predict_us
        var model = CompactModel.Parse(File.ReadAllText(Path.Combine(fixtures, "compact", "bench-gb100.json")));
        var expected = Json.ParseObject(File.ReadAllText(Path.Combine(fixtures, "compact", "bench-gb100.expected.json")));
        var rows = ((List<object>)expected["rows"]).Cast<Dictionary<string, object>>().ToList();
        DateTime asOf = new DateTime(2026, 11, 30, 12, 0, 0, DateTimeKind.Utc);
        for (int i = 0; i < 2000; i++) model.PredictOutputs(rows[i % rows.Count], asOf);
        var predict = new List<double>();
        var sw = new Stopwatch();
        for (int rep = 0; rep < 15; rep++)
        {
            sw.Restart();
            for (int i = 0; i < 2000; i++) model.PredictOutputs(rows[i % rows.Count], asOf);
            predict.Add(sw.Elapsed.TotalMilliseconds * 1000 / 2000);
        }
        Console.WriteLine("compact_predict_us " + Median(predict).ToString("F2") + "   (100 trees, one raw row incl. pre-graph and TF-IDF; median of 15 x 2000)");

        // --- track_event_us and allocations, against the one-string-rewritten-per-event baseline
        var client = new LiveMLClient(new LiveMLClientOptions { BaseUrl = "http://127.0.0.1:9" });
        var props = new Dictionary<string, object> { { "level", 12 }, { "stars", 3 }, { "seconds", 95.5 } };
        var track = new List<double>();
        double allocPerEvent = double.NaN;
        using (var analyzer = new PlayerBehaviorAnalyzer(client, new PlayerBehaviorOptions
        {
            PlayerId = "bench-player", FlushAtCount = int.MaxValue, Queue = new EventQueueOptions { Directory = Path.Combine(dir, "q"), MaxBytes = 1L << 40 },
        }))
        {
            for (int i = 0; i < 500; i++) analyzer.TrackPlayerAction("level_complete", props);
            for (int rep = 0; rep < 11; rep++)
            {
                sw.Restart();
                for (int i = 0; i < 1000; i++) analyzer.TrackPlayerAction("level_complete", props);
                track.Add(sw.Elapsed.TotalMilliseconds * 1000 / 1000);
            }
            try
            {
                var method = typeof(GC).GetMethod("GetAllocatedBytesForCurrentThread");
                if (method != null)
                {
                    long before = (long)method.Invoke(null, null);
                    for (int i = 0; i < 1000; i++) analyzer.TrackPlayerAction("level_complete", props);
                    allocPerEvent = ((long)method.Invoke(null, null) - before) / 1000.0;
                }
            }
            catch (Exception) { }
        }
        // The naive baseline: every event appended to one JSON string that is rewritten whole (PlayerPrefs-style).
        var naive = new List<double>();
        string prefs = Path.Combine(dir, "prefs.json");
        var all = new StringBuilder("[");
        for (int rep = 0; rep < 5; rep++)
        {
            sw.Restart();
            for (int i = 0; i < 200; i++)
            {
                if (all.Length > 1) all.Append(',');
                Json.Write(all, props);
                File.WriteAllText(prefs, all.ToString() + "]");
            }
            naive.Add(sw.Elapsed.TotalMilliseconds * 1000 / 200);
        }
        double t = Median(track), b = Median(naive);
        Console.WriteLine("track_event_us " + t.ToString("F2") + "   (durable append, median of 11 x 1000)");
        Console.WriteLine("naive_rewrite_per_event_us " + b.ToString("F2") + "   (one string rewritten per event, after 0-1000 events; ratio " + (b / t).ToString("F1") + "x)");
        Console.WriteLine("alloc_bytes_per_event " + (double.IsNaN(allocPerEvent) ? "n/a (this Mono cannot count)" : allocPerEvent.ToString("F0")));

        // --- queue_flush_500_ms: to a local endpoint that answers like POST /events
        int port = FreePort();
        var listener = new HttpListener();
        listener.Prefixes.Add("http://127.0.0.1:" + port + "/");
        listener.Start();
        var server = new Thread(() =>
        {
            while (listener.IsListening)
            {
                HttpListenerContext ctx;
                try { ctx = listener.GetContext(); } catch (Exception) { return; }
                string body = new StreamReader(ctx.Request.InputStream).ReadToEnd();
                int n = ((List<object>)Json.ParseObject(body)["events"]).Count;
                byte[] answer = Encoding.UTF8.GetBytes("{\"accepted\":" + n + ",\"duplicates\":0,\"rejected\":[],\"correlation_id\":\"b\"}");
                ctx.Response.ContentType = "application/json";
                ctx.Response.OutputStream.Write(answer, 0, answer.Length);
                ctx.Response.Close();
            }
        }) { IsBackground = true };
        server.Start();
        var flushClient = new LiveMLClient(new LiveMLClientOptions { BaseUrl = "http://127.0.0.1:" + port });
        var flush = new List<double>();
        for (int rep = 0; rep < 9; rep++)
        {
            using (var analyzer = new PlayerBehaviorAnalyzer(flushClient, new PlayerBehaviorOptions
            {
                PlayerId = "bench-player", FlushAtCount = int.MaxValue, Queue = new EventQueueOptions { Directory = Path.Combine(dir, "f" + rep) },
            }))
            {
                for (int i = 0; i < 500; i++) analyzer.TrackPlayerAction("level_complete", props);
                sw.Restart();
                FlushResult r = analyzer.FlushAsync().GetAwaiter().GetResult();
                double ms = sw.Elapsed.TotalMilliseconds;
                if (r.Accepted != 500) throw new Exception("flush delivered " + r.Accepted);
                if (rep > 0) flush.Add(ms); // the first one warms the HTTP stack
            }
        }
        listener.Stop();
        Console.WriteLine("queue_flush_500_ms " + Median(flush).ToString("F2") + "   (500 events read from disk, one POST to 127.0.0.1, committed; median of 8)");
    }

    private static int FreePort()
    {
        var l = new System.Net.Sockets.TcpListener(IPAddress.Loopback, 0);
        l.Start();
        int port = ((IPEndPoint)l.LocalEndpoint).Port;
        l.Stop();
        return port;
    }
}
