// Keeps a verified on-device model per named model: polls /models/{model}/latest, downloads the compact
// model, checks its sha256 and a sanity inference on the golden requests, keeps the last-known-good on
// disk (atomic write and rename), and activates now or at the next session.
using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Security.Cryptography;
using System.Text;
using System.Threading;
using System.Threading.Tasks;

namespace LiveML
{
    public enum Activation { Immediately, NextSession }

    public enum SyncOutcome { Updated, Staged, Unchanged, NoDeviceModel, Unavailable, Rejected }

    public sealed class SyncResult
    {
        public string Model;
        public SyncOutcome Outcome;
        public string Version;
        public string Reason;
        public override string ToString() { return Model + ": " + Outcome + (Version != null ? " v" + Version : "") + (Reason != null ? " (" + Reason + ")" : ""); }
    }

    public sealed class ModelUpdatedEventArgs : EventArgs
    {
        public string Model;
        public string Version;
        public string PreviousVersion;
        public string Sha256;
    }

    public sealed class ModelManagerOptions
    {
        public string[] Models = new string[0];
        /// <summary>Where verified models live (Application.persistentDataPath/liveml/models in a game).</summary>
        public string Directory;
        public Activation Activation = Activation.Immediately;
        public TimeSpan PollInterval = TimeSpan.FromMinutes(15);
        /// <summary>With an A/B experiment, the server answers with this player's variant.</summary>
        public string PlayerId;
        /// <summary>Largest difference from the golden expectations a model may show before it is refused.</summary>
        public double GoldenTolerance = 1e-4;
        public Action<string> Log;
    }

    public sealed class ModelManager : IDeviceModels
    {
        private const string StateFile = "state.json";
        private readonly LiveMLClient _client;
        private readonly ModelManagerOptions _o;
        private readonly object _lock = new object();
        private readonly Dictionary<string, Loaded> _active = new Dictionary<string, Loaded>(StringComparer.Ordinal);

        private sealed class Loaded
        {
            public CompactModel Model;
            public string Version;
            public string Sha256;
        }

        public event EventHandler<ModelUpdatedEventArgs> ModelUpdated;

        public ModelManager(LiveMLClient client, ModelManagerOptions options)
        {
            _o = Require.Options(client, options, "Directory", o => o.Directory);
            _client = client;
            System.IO.Directory.CreateDirectory(options.Directory);
            client.DeviceModels = this;
        }

        public CompactModel Active(string model, out string version)
        {
            lock (_lock)
            {
                Loaded l;
                if (_active.TryGetValue(model, out l)) { version = l.Version; return l.Model; }
            }
            version = null;
            return null;
        }

        public string ActiveVersion(string model)
        {
            string v;
            Active(model, out v);
            return v;
        }

        // --- the session start: what is on disk ----------------------------------------------------

        /// <summary>Loads each model's verified file from disk (a staged one first, at a session start), rolling
        /// back to the last-known-good when a file is missing, corrupt or fails its sanity inference.</summary>
        public void LoadFromDisk()
        {
            foreach (string model in _o.Models)
            {
                // A write the game was killed in the middle of leaves its temporary file: never used, removed.
                if (System.IO.Directory.Exists(ModelDir(model)))
                    foreach (string tmp in System.IO.Directory.GetFiles(ModelDir(model), "*.tmp-*")) File.Delete(tmp);
                Dictionary<string, object> state = ReadState(model);
                if (state == null) continue;
                var pending = Json.GetObject(state, "pending");
                if (pending != null)
                {
                    // A model staged for the next session becomes current now; the current one becomes last-known-good.
                    state["previous"] = Json.GetObject(state, "current");
                    state["current"] = pending;
                    state.Remove("pending");
                    WriteState(model, state);
                }
                foreach (string slot in new[] { "current", "previous" })
                {
                    var entry = Json.GetObject(state, slot);
                    if (entry == null) continue;
                    string reason;
                    Loaded loaded = LoadEntry(model, entry, out reason);
                    if (loaded != null)
                    {
                        lock (_lock) _active[model] = loaded;
                        if (slot == "previous")
                        {
                            Log(model + ": rolled back to the last-known-good v" + loaded.Version);
                            state["current"] = entry;
                            state.Remove("previous");
                            WriteState(model, state);
                        }
                        break;
                    }
                    Log(model + ": the " + slot + " model cannot be used: " + reason);
                }
            }
        }

        private Loaded LoadEntry(string model, Dictionary<string, object> entry, out string reason)
        {
            string sha = Json.GetString(entry, "sha256");
            string path = ModelPath(model, sha);
            if (!File.Exists(path)) { reason = "missing file"; return null; }
            byte[] bytes = File.ReadAllBytes(path);
            if (Sha256Hex(bytes) != sha) { reason = "sha256 mismatch on disk"; return null; }
            CompactModel m = TryLoad(bytes, GoldenPath(model, sha), out reason);
            return m == null ? null : new Loaded { Model = m, Version = Json.GetString(entry, "version"), Sha256 = sha };
        }

        private CompactModel TryLoad(byte[] bytes, string goldenPath, out string reason)
        {
            CompactModel m;
            try { m = CompactModel.Parse(Encoding.UTF8.GetString(bytes)); }
            catch (ModelFormatException e) { reason = "does not load: " + e.Message; return null; }
            if (goldenPath != null && File.Exists(goldenPath))
            {
                reason = Golden.Check(m, File.ReadAllText(goldenPath, Encoding.UTF8), _o.GoldenTolerance);
                if (reason != null) return null;
            }
            reason = null;
            return m;
        }

        // --- polling --------------------------------------------------------------------------------

        public async Task<List<SyncResult>> SyncAllAsync()
        {
            var results = new List<SyncResult>();
            foreach (string model in _o.Models) results.Add(await SyncAsync(model).ConfigureAwait(false));
            return results;
        }

        /// <summary>Polls until cancelled: at once, then every PollInterval.</summary>
        public async Task PollAsync(CancellationToken cancel)
        {
            while (!cancel.IsCancellationRequested)
            {
                foreach (SyncResult r in await SyncAllAsync().ConfigureAwait(false)) Log(r.ToString());
                try { await Task.Delay(_o.PollInterval, cancel).ConfigureAwait(false); }
                catch (OperationCanceledException) { return; }
            }
        }

        public async Task<SyncResult> SyncAsync(string model)
        {
            string url = _client.Url("/models/" + LiveMLClient.Escape(model) + "/latest");
            if (!string.IsNullOrEmpty(_o.PlayerId)) url += "?player_id=" + Uri.EscapeDataString(_o.PlayerId);
            HttpResponse r = await _client.SendWithRetriesAsync(_client.NewRequest("GET", url, null)).ConfigureAwait(false);
            if (!r.IsSuccess) return Result(model, SyncOutcome.Unavailable, null, r.Status == 0 ? r.Error : "HTTP " + r.Status);
            Dictionary<string, object> latest;
            try { latest = Json.ParseObject(r.Text); }
            catch (JsonException e) { return Result(model, SyncOutcome.Unavailable, null, "not a model description: " + e.Message); }
            string version = Convert.ToString(Json.Get(latest, "version"), CultureInfo.InvariantCulture);
            var compact = Json.GetObject(latest, "compact");
            string sha = Json.GetString(compact, "sha256");
            string link = Json.GetString(compact, "url");
            if (compact == null || sha == null || link == null) return Result(model, SyncOutcome.NoDeviceModel, version, "the version has no downloadable compact model");
            sha = sha.ToLowerInvariant();

            Dictionary<string, object> state = ReadState(model) ?? new Dictionary<string, object>();
            var current = Json.GetObject(state, "current");
            var pending = Json.GetObject(state, "pending");
            if (Same(current, sha) && (_o.Activation == Activation.NextSession || ActiveSha(model) == sha)) return Result(model, SyncOutcome.Unchanged, version, null);
            if (Same(pending, sha)) return Result(model, SyncOutcome.Staged, version, "already staged for the next session");

            HttpResponse download = await _client.Transport.SendAsync(new HttpRequest { Url = Absolute(link), Timeout = TimeSpan.FromSeconds(30) }).ConfigureAwait(false);
            if (!download.IsSuccess) return Result(model, SyncOutcome.Unavailable, version, "download failed: " + (download.Status == 0 ? download.Error : "HTTP " + download.Status));
            string actual = Sha256Hex(download.Bytes);
            if (actual != sha) return Result(model, SyncOutcome.Rejected, version, "sha256 " + actual + " differs from the announced " + sha);

            // The golden requests: a short sanity inference before the model may serve.
            string goldenText = null;
            var golden = Json.GetObject(latest, "golden");
            if (golden != null && Json.GetString(golden, "url") != null)
            {
                HttpResponse g = await _client.Transport.SendAsync(new HttpRequest { Url = Absolute(Json.GetString(golden, "url")), Timeout = TimeSpan.FromSeconds(30) }).ConfigureAwait(false);
                if (!g.IsSuccess) return Result(model, SyncOutcome.Unavailable, version, "golden requests download failed");
                string gsha = Json.GetString(golden, "sha256");
                if (gsha != null && Sha256Hex(g.Bytes) != gsha.ToLowerInvariant()) return Result(model, SyncOutcome.Rejected, version, "golden requests sha256 mismatch");
                goldenText = Encoding.UTF8.GetString(g.Bytes);
            }
            CompactModel loaded;
            try { loaded = CompactModel.Parse(Encoding.UTF8.GetString(download.Bytes)); }
            catch (ModelFormatException e) { return Result(model, SyncOutcome.Rejected, version, "does not load: " + e.Message); }
            if (goldenText != null)
            {
                string why = Golden.Check(loaded, goldenText, _o.GoldenTolerance);
                if (why != null) return Result(model, SyncOutcome.Rejected, version, why);
            }

            AtomicWrite(ModelPath(model, sha), download.Bytes);
            if (goldenText != null) AtomicWrite(GoldenPath(model, sha), Encoding.UTF8.GetBytes(goldenText));
            var entry = new Dictionary<string, object> { { "version", version }, { "sha256", sha } };
            if (_o.Activation == Activation.NextSession && current != null)
            {
                state["pending"] = entry;
                WriteState(model, state);
                Prune(model, state);
                return Result(model, SyncOutcome.Staged, version, null);
            }
            string previousVersion = ActiveVersion(model);
            if (current != null && !Same(current, sha)) state["previous"] = current;
            state["current"] = entry;
            state.Remove("pending");
            WriteState(model, state);
            Prune(model, state);
            lock (_lock) _active[model] = new Loaded { Model = loaded, Version = version, Sha256 = sha };
            EventHandler<ModelUpdatedEventArgs> handler = ModelUpdated;
            if (handler != null) handler(this, new ModelUpdatedEventArgs { Model = model, Version = version, PreviousVersion = previousVersion, Sha256 = sha });
            return Result(model, SyncOutcome.Updated, version, null);
        }

        private string ActiveSha(string model)
        {
            lock (_lock)
            {
                Loaded l;
                return _active.TryGetValue(model, out l) ? l.Sha256 : null;
            }
        }

        private static bool Same(Dictionary<string, object> entry, string sha)
        {
            return entry != null && Json.GetString(entry, "sha256") == sha;
        }

        private string Absolute(string link)
        {
            return link.StartsWith("http://", StringComparison.OrdinalIgnoreCase) || link.StartsWith("https://", StringComparison.OrdinalIgnoreCase)
                ? link : _client.Url(link.StartsWith("/") ? link : "/" + link);
        }

        private SyncResult Result(string model, SyncOutcome outcome, string version, string reason)
        {
            if (outcome == SyncOutcome.Rejected) Log(model + ": refused v" + version + ": " + reason + " (the current model stays)");
            return new SyncResult { Model = model, Outcome = outcome, Version = version, Reason = reason };
        }

        // --- files ----------------------------------------------------------------------------------

        private string ModelDir(string model) { return Path.Combine(_o.Directory, SafeName(model)); }
        private string ModelPath(string model, string sha) { return Path.Combine(ModelDir(model), sha + ".compact.json"); }
        private string GoldenPath(string model, string sha) { return Path.Combine(ModelDir(model), sha + ".golden.json"); }

        private static string SafeName(string model)
        {
            var sb = new StringBuilder();
            foreach (char c in model) sb.Append(char.IsLetterOrDigit(c) || c == '-' || c == '_' || c == '.' ? c : '_');
            return sb.ToString();
        }

        private Dictionary<string, object> ReadState(string model)
        {
            string path = Path.Combine(ModelDir(model), StateFile);
            if (!File.Exists(path)) return null;
            try { return Json.ParseObject(File.ReadAllText(path, Encoding.UTF8)); }
            catch (JsonException e) { Log(model + ": unreadable " + StateFile + ": " + e.Message); return null; }
        }

        private void WriteState(string model, Dictionary<string, object> state)
        {
            AtomicWrite(Path.Combine(ModelDir(model), StateFile), Encoding.UTF8.GetBytes(Json.Serialize(state)));
        }

        /// <summary>Keeps only the files the state names (current, previous, pending).</summary>
        private void Prune(string model, Dictionary<string, object> state)
        {
            var keep = new HashSet<string>(StringComparer.Ordinal);
            foreach (string slot in new[] { "current", "previous", "pending" })
            {
                var e = Json.GetObject(state, slot);
                if (e != null) keep.Add(Json.GetString(e, "sha256"));
            }
            foreach (string f in System.IO.Directory.GetFiles(ModelDir(model), "*.json"))
            {
                string name = Path.GetFileName(f);
                int dot = name.IndexOf('.');
                if (name == StateFile || dot < 0) continue;
                if (!keep.Contains(name.Substring(0, dot))) File.Delete(f);
            }
        }

        /// <summary>Write to a temporary file, flush it to disk, then rename over the target: a reader sees
        /// the old file or the new one, never half of one.</summary>
        public static void AtomicWrite(string path, byte[] bytes)
        {
            System.IO.Directory.CreateDirectory(Path.GetDirectoryName(path));
            string tmp = path + ".tmp-" + Guid.NewGuid().ToString("N");
            using (var fs = new FileStream(tmp, FileMode.CreateNew, FileAccess.Write))
            {
                fs.Write(bytes, 0, bytes.Length);
                fs.Flush(true);
            }
            if (File.Exists(path)) File.Replace(tmp, path, null);
            else File.Move(tmp, path);
        }

        public static string Sha256Hex(byte[] bytes)
        {
            using (var sha = SHA256.Create())
            {
                byte[] d = sha.ComputeHash(bytes);
                var sb = new StringBuilder(64);
                foreach (byte b in d) sb.Append(b.ToString("x2", CultureInfo.InvariantCulture));
                return sb.ToString();
            }
        }

        private void Log(string message)
        {
            if (_o.Log != null) _o.Log("[LiveML] " + message);
        }
    }

    /// <summary>The sanity inference: a model must reproduce the version's golden requests.</summary>
    public static class Golden
    {
        /// <summary>Null when every golden request matches within the tolerance, else why not.</summary>
        public static string Check(CompactModel model, string goldenJson, double tolerance)
        {
            try
            {
                var doc = Json.ParseObject(goldenJson);
                DateTime? asOf = null;
                object asOfValue = Json.Get(doc, "as_of");
                if (asOfValue != null)
                    asOf = new DateTime(1970, 1, 1, 0, 0, 0, DateTimeKind.Utc).AddTicks((long)Math.Round(PreGraph.ToEpochSeconds(asOfValue, "as_of") * 1e7));
                var requests = Json.GetList(doc, "requests");
                if (requests == null || requests.Count == 0) return "the golden requests are empty";
                int i = 0;
                foreach (object o in requests)
                {
                    var req = (Dictionary<string, object>)o;
                    var features = Json.GetObject(req, "features");
                    var expected = Json.GetObject(req, "expected");
                    double[] got = model.PredictOutputs(features, asOf);
                    var probs = Json.GetObject(expected, "probabilities");
                    if (probs != null)
                    {
                        for (int k = 0; k < model.Classes.Length; k++)
                        {
                            double want = (double)probs[model.Classes[k]];
                            if (!(Math.Abs(got[k] - want) <= tolerance))
                                return "golden request " + i + ": p(" + model.Classes[k] + ") " + got[k].ToString("G6", CultureInfo.InvariantCulture) + " vs " + want.ToString("G6", CultureInfo.InvariantCulture);
                        }
                    }
                    else
                    {
                        double want = Json.GetDouble(expected, "value", double.NaN);
                        if (!(Math.Abs(got[0] - want) <= tolerance * Math.Max(1.0, Math.Abs(want))))
                            return "golden request " + i + ": value " + got[0] + " vs " + want;
                    }
                    i++;
                }
                return null;
            }
            catch (Exception e)
            {
                if (e is FeatureException || e is JsonException || e is InvalidCastException || e is KeyNotFoundException || e is NullReferenceException || e is IndexOutOfRangeException)
                    return "golden requests cannot be replayed: " + e.Message;
                throw;
            }
        }
    }
}
