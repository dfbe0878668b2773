// The pre-graph step (raw feature values to the model's inputs), identical to the server's
// liveml.inference.pregraph: datetime parts, the infrequent-category bucket, missing values, text
// folded to ASCII (format 2).
using System;
using System.Collections;
using System.Collections.Generic;
using System.Globalization;

namespace LiveML
{
    /// <summary>One row's graph inputs: float32 numbers (NaN when missing) and strings, in the slots the
    /// pre-graph step assigned (a model resolves names to slots once, when it loads).</summary>
    public sealed class GraphInputs
    {
        private readonly PreGraph _graph;
        public readonly double[] Numbers;
        public readonly string[] Texts;

        internal GraphInputs(PreGraph graph)
        {
            _graph = graph;
            Numbers = new double[graph.NumberSlots.Count];
            Texts = new string[graph.TextSlots.Count];
        }

        public double Number(string name) { return Numbers[_graph.NumberSlot(name)]; }
        public string Text(string name) { return Texts[_graph.TextSlot(name)]; }
    }

    public sealed class PreGraph
    {
        public const string Other = "__other__";
        public const string Missing = "__missing__";

        private sealed class Column
        {
            public string Name;
            public string Type;
            public HashSet<string> Kept;
            public int Slot; // numbers: the first of its slots (five for a datetime); strings: its text slot
        }

        /// <summary>Graph input name to slot, for float inputs and for string inputs.</summary>
        public readonly Dictionary<string, int> NumberSlots = new Dictionary<string, int>(StringComparer.Ordinal);
        public readonly Dictionary<string, int> TextSlots = new Dictionary<string, int>(StringComparer.Ordinal);

        public int NumberSlot(string name)
        {
            int slot;
            if (!NumberSlots.TryGetValue(name, out slot)) throw new ModelFormatException("no numeric graph input '" + name + "'");
            return slot;
        }

        public int TextSlot(string name)
        {
            int slot;
            if (!TextSlots.TryGetValue(name, out slot)) throw new ModelFormatException("no string graph input '" + name + "'");
            return slot;
        }

        private readonly List<Column> _columns = new List<Column>();
        public readonly string EventTime;
        public readonly double? ReferenceTime;
        /// <summary>The pre-graph format: 2 folds text to ASCII (<see cref="TextFold"/>), 1 (older models) does not.</summary>
        public readonly int Version;

        public PreGraph(Dictionary<string, object> spec)
        {
            if (spec == null) throw new ModelFormatException("no preprocessing section");
            Version = (int)Json.GetDouble(spec, "version", 0);
            if (Version != 1 && Version != 2) throw new ModelFormatException("pre-graph format version " + Json.Get(spec, "version") + " is not supported (this client reads 1 and 2)");
            foreach (object o in Json.GetList(spec, "columns"))
            {
                var c = (Dictionary<string, object>)o;
                var col = new Column { Name = Json.GetString(c, "name"), Type = Json.GetString(c, "type") };
                switch (col.Type)
                {
                    case "numeric": case "integer": case "boolean": case "text": case "datetime": break;
                    case "categorical":
                        var cats = Json.GetList(c, "categories");
                        if (cats == null) throw new ModelFormatException("categorical column '" + col.Name + "' without its kept categories");
                        col.Kept = new HashSet<string>(StringComparer.Ordinal);
                        foreach (object cat in cats) col.Kept.Add((string)cat);
                        break;
                    default: throw new ModelFormatException("column '" + col.Name + "': unknown type '" + col.Type + "'");
                }
                if (col.Type == "categorical" || col.Type == "text")
                {
                    col.Slot = TextSlots.Count;
                    TextSlots[col.Name] = col.Slot;
                }
                else if (col.Type == "datetime")
                {
                    col.Slot = NumberSlots.Count;
                    foreach (string part in new[] { "hour_sin", "hour_cos", "dow_sin", "dow_cos", "age_days" }) NumberSlots[col.Name + "__" + part] = NumberSlots.Count;
                }
                else
                {
                    col.Slot = NumberSlots.Count;
                    NumberSlots[col.Name] = col.Slot;
                }
                _columns.Add(col);
            }
            EventTime = Json.GetString(spec, "event_time");
            object rt = Json.Get(spec, "reference_time");
            if (rt is double) ReferenceTime = (double)rt;
        }

        /// <summary>The raw feature names, in contract order.</summary>
        public List<string> FeatureNames
        {
            get
            {
                var names = new List<string>();
                foreach (Column c in _columns) names.Add(c.Name);
                return names;
            }
        }

        /// <summary>Graph inputs for one raw row; absent keys are missing. <paramref name="asOf"/> is the
        /// reference time for ages when the row has no event time (defaults to the fitted reference).</summary>
        public GraphInputs Transform(IDictionary<string, object> row, DateTime? asOf)
        {
            var inputs = new GraphInputs(this);
            double[] numbers = inputs.Numbers;
            string[] texts = inputs.Texts;
            double reference = asOf.HasValue ? EpochSeconds(asOf.Value) : (ReferenceTime ?? double.NaN);
            if (EventTime != null)
            {
                double ev = ToEpochSeconds(Value(row, EventTime), EventTime);
                if (!double.IsNaN(ev) && !double.IsInfinity(ev)) reference = ev;
            }
            foreach (Column col in _columns)
            {
                object v = Value(row, col.Name);
                switch (col.Type)
                {
                    case "numeric":
                    case "integer":
                    case "boolean":
                        numbers[col.Slot] = (float)ToDouble(v, col.Name, col.Type == "boolean");
                        break;
                    case "categorical":
                        string s = AsCategory(v);
                        texts[col.Slot] = s == null ? Missing : (col.Kept.Contains(s) ? s : Other);
                        break;
                    case "text":
                        texts[col.Slot] = IsMissing(v) ? "" : (Version >= 2 ? TextFold.Fold(AsString(v)) : AsString(v));
                        break;
                    default:
                        double secs = ToEpochSeconds(v, col.Name);
                        double day = Math.Floor(secs / 86400.0);
                        double hour = (secs - day * 86400.0) / 3600.0;
                        double dow = (day + 3.0) % 7.0; // 1970-01-01 was a Thursday
                        if (dow < 0) dow += 7.0;
                        double twoPi = 2.0 * Math.PI;
                        numbers[col.Slot] = (float)Math.Sin(twoPi * hour / 24.0);
                        numbers[col.Slot + 1] = (float)Math.Cos(twoPi * hour / 24.0);
                        numbers[col.Slot + 2] = (float)Math.Sin(twoPi * dow / 7.0);
                        numbers[col.Slot + 3] = (float)Math.Cos(twoPi * dow / 7.0);
                        numbers[col.Slot + 4] = (float)((reference - secs) / 86400.0);
                        break;
                }
            }
            return inputs;
        }

        private static object Value(IDictionary<string, object> row, string name)
        {
            object v;
            return row != null && row.TryGetValue(name, out v) ? v : null;
        }

        private static bool IsMissing(object v)
        {
            if (v == null) return true;
            if (v is double) return double.IsNaN((double)v);
            if (v is float) return float.IsNaN((float)v);
            return false;
        }

        private static string AsString(object v)
        {
            if (v is double) return ((double)v).ToString("R", CultureInfo.InvariantCulture);
            if (v is float) return ((float)v).ToString("R", CultureInfo.InvariantCulture);
            if (v is bool) return (bool)v ? "True" : "False";
            return Convert.ToString(v, CultureInfo.InvariantCulture);
        }

        /// <summary>A category as the graph sees it; null for missing (null, NaN, "").</summary>
        public static string AsCategory(object v)
        {
            if (IsMissing(v)) return null;
            if (v is bool) return (bool)v ? "true" : "false";
            if (v is double || v is float)
            {
                double d = Convert.ToDouble(v, CultureInfo.InvariantCulture);
                if (Math.Floor(d) == d && Math.Abs(d) < 1e15) return ((long)d).ToString(CultureInfo.InvariantCulture); // 3.0 and 3 are one category
            }
            string s = AsString(v);
            return s == "" ? null : s;
        }

        private static readonly HashSet<string> True = new HashSet<string> { "true", "t", "yes", "y", "1" };
        private static readonly HashSet<string> False = new HashSet<string> { "false", "f", "no", "n", "0" };

        public static double ToDouble(object v, string name, bool boolean)
        {
            if (IsMissing(v)) return double.NaN;
            if (v is bool) return (bool)v ? 1.0 : 0.0;
            if (v is double || v is float || v is int || v is long || v is short || v is byte || v is decimal || v is uint || v is ulong)
                return Convert.ToDouble(v, CultureInfo.InvariantCulture);
            var s = v as string;
            if (s != null)
            {
                string t = s.Trim().ToLowerInvariant();
                if (t == "") return double.NaN;
                if (boolean && True.Contains(t)) return 1.0;
                if (boolean && False.Contains(t)) return 0.0;
                double d;
                if (double.TryParse(t, NumberStyles.Float, CultureInfo.InvariantCulture, out d)) return d;
            }
            throw new FeatureException(name, "'" + v + "' is not a number");
        }

        public static double EpochSeconds(DateTime t)
        {
            DateTime utc = t.Kind == DateTimeKind.Unspecified ? DateTime.SpecifyKind(t, DateTimeKind.Utc) : t.ToUniversalTime();
            return (utc - new DateTime(1970, 1, 1, 0, 0, 0, DateTimeKind.Utc)).Ticks / 1e7;
        }

        /// <summary>Datetimes (ISO-8601 strings, DateTime, DateTimeOffset, epoch seconds) as UTC epoch seconds;
        /// naive values are taken as UTC, as on the server.</summary>
        public static double ToEpochSeconds(object v, string name)
        {
            if (IsMissing(v)) return double.NaN;
            if (v is bool) throw new FeatureException(name, "'" + v + "' is not a datetime");
            if (v is double || v is float || v is int || v is long) return Convert.ToDouble(v, CultureInfo.InvariantCulture);
            if (v is DateTime) return EpochSeconds((DateTime)v);
            if (v is DateTimeOffset) return ((DateTimeOffset)v).ToUnixTimeMilliseconds() / 1000.0 + (((DateTimeOffset)v).Ticks % 10000) / 1e7;
            var s = v as string;
            if (s != null)
            {
                string t = s.Trim();
                if (t == "") return double.NaN;
                DateTimeOffset dto;
                bool hasOffset = t.EndsWith("Z", StringComparison.OrdinalIgnoreCase) || HasOffset(t);
                var styles = DateTimeStyles.AllowWhiteSpaces | (hasOffset ? DateTimeStyles.None : DateTimeStyles.AssumeUniversal);
                if (DateTimeOffset.TryParse(t, CultureInfo.InvariantCulture, styles, out dto))
                    return (dto.UtcTicks - 621355968000000000L) / 1e7;
                throw new FeatureException(name, "'" + s + "' is not an ISO 8601 datetime");
            }
            throw new FeatureException(name, "'" + v + "' is not a datetime");
        }

        private static bool HasOffset(string t)
        {
            int tpos = t.IndexOf('T');
            if (tpos < 0) tpos = t.IndexOf(' ');
            if (tpos < 0) return false;
            return t.IndexOf('+', tpos) > 0 || t.IndexOf('-', tpos) > 0;
        }
    }
}
