// The on-device evaluator of the compact model format ("liveml.compact" v1) that the Python exporter
// writes; the Python light runtime (liveml.inference.compact) is the reference it is tested against.
using System;
using System.Collections.Generic;
using System.Globalization;

namespace LiveML
{
    /// <summary>A document that is not a compact model this evaluator can run.</summary>
    public sealed class ModelFormatException : Exception
    {
        public ModelFormatException(string message) : base(message) { }
    }

    /// <summary>A feature value the model cannot take; <see cref="Field"/> names the column.</summary>
    public sealed class FeatureException : Exception
    {
        public readonly string Field;
        public FeatureException(string field, string message) : base("feature '" + field + "': " + message) { Field = field; }
    }

    /// <summary>One prediction: a label with class probabilities, or a regression value.</summary>
    public sealed class Prediction
    {
        public string Label;
        public Dictionary<string, double> Probabilities;
        public double Confidence;
        public double Value;
        public bool IsRegression;
    }

    public sealed class CompactModel
    {
        public const string Format = "liveml.compact";
        public const int Version = 1;

        public readonly string Task;
        public readonly string[] Classes;
        public readonly PreGraph PreGraph;
        private readonly Feature[] _features;
        private readonly Dictionary<string, TextBlock> _texts = new Dictionary<string, TextBlock>(StringComparer.Ordinal);
        private readonly TextBlock[] _textBlocks;
        // linear
        private readonly bool _isTrees;
        private readonly double[][] _coef;
        private readonly double[] _intercept;
        // trees
        private readonly Tree[] _trees;
        private readonly int _nOutputs;
        private readonly double[] _base;
        private readonly bool _mean;
        private readonly string _link;

        private sealed class Feature
        {
            public int Kind; // 0 numeric, 1 equals, 2 product, 3 term
            public string Input;
            public int Slot; // the input's slot (numeric, equals) or the text block's number (term)
            public int[] FactorSlots;
            public double Impute;
            public string EqualsValue;
            public string[] FactorInputs;
            public double[] FactorImputes;
            public int TermIndex;
            public bool Scaled;
            public double Mean;
            public double Scale;
        }

        private sealed class TextBlock
        {
            public Dictionary<string, int> Index;
            public double[] Idf;
            public bool L2;
            public int Number;
            public int Slot;
        }

        private sealed class Tree
        {
            public int Target;
            public int[] Feature;
            public double[] Threshold;
            public int[] Left;
            public int[] Right;
            public double[][] Value;
        }

        public static CompactModel Parse(string json)
        {
            try
            {
                return new CompactModel(Json.ParseObject(json));
            }
            catch (JsonException e)
            {
                throw new ModelFormatException("not a compact model: " + e.Message);
            }
        }

        public CompactModel(Dictionary<string, object> doc)
        {
            string format = Json.GetString(doc, "format");
            double version = Json.GetDouble(doc, "version", 0);
            if (format != Format || (int)version != Version)
                throw new ModelFormatException("not a " + Format + " v" + Version + " document (format=" + format + ", version=" + version + ")");
            try
            {
                Task = Json.GetString(doc, "task");
                if (Task != "binary" && Task != "multiclass" && Task != "regression")
                    throw new ModelFormatException("unknown task '" + Task + "'");
                var classes = Json.GetList(doc, "classes");
                if (classes != null)
                {
                    Classes = new string[classes.Count];
                    for (int i = 0; i < classes.Count; i++) Classes[i] = Convert.ToString(classes[i], CultureInfo.InvariantCulture);
                }
                else if (Task != "regression") throw new ModelFormatException("a classifier without classes");
                PreGraph = new PreGraph(Json.GetObject(doc, "preprocessing"));

                var texts = Json.GetObject(doc, "texts");
                if (texts != null)
                {
                    foreach (var kv in texts)
                    {
                        var t = (Dictionary<string, object>)kv.Value;
                        if (Json.GetString(t, "tokens") != "words2" || !(Json.Get(t, "lowercase") is bool) || !(bool)Json.Get(t, "lowercase"))
                            throw new ModelFormatException("text input '" + kv.Key + "': unsupported tokenizer");
                        var terms = Json.GetList(t, "terms");
                        var block = new TextBlock
                        {
                            Index = new Dictionary<string, int>(StringComparer.Ordinal), Idf = Json.ToDoubles(Json.Get(t, "idf"), "idf"),
                            L2 = Json.GetString(t, "norm") == "l2", Number = _texts.Count, Slot = PreGraph.TextSlot(kv.Key),
                        };
                        for (int i = 0; i < terms.Count; i++) block.Index[(string)terms[i]] = i;
                        if (block.Idf.Length != terms.Count) throw new ModelFormatException("text input '" + kv.Key + "': terms and idf differ in length");
                        _texts[kv.Key] = block;
                    }
                }
                _textBlocks = new TextBlock[_texts.Count];
                foreach (TextBlock b in _texts.Values) _textBlocks[b.Number] = b;

                var feats = Json.GetList(doc, "features");
                _features = new Feature[feats.Count];
                for (int i = 0; i < feats.Count; i++) _features[i] = ReadFeature((Dictionary<string, object>)feats[i]);

                var model = Json.GetObject(doc, "model");
                string type = Json.GetString(model, "type");
                _link = Json.GetString(model, "link");
                if (_link != "identity" && _link != "none" && _link != "logistic" && _link != "softmax")
                    throw new ModelFormatException("unknown link '" + _link + "'");
                if (type == "linear")
                {
                    var coef = Json.GetList(model, "coef");
                    _coef = new double[coef.Count][];
                    for (int k = 0; k < coef.Count; k++)
                    {
                        _coef[k] = Json.ToDoubles(coef[k], "coef");
                        if (_coef[k].Length != _features.Length) throw new ModelFormatException("coef has " + _coef[k].Length + " columns for " + _features.Length + " features");
                    }
                    _intercept = Json.ToDoubles(Json.Get(model, "intercept"), "intercept");
                    _nOutputs = _coef.Length;
                }
                else if (type == "trees")
                {
                    _isTrees = true;
                    _nOutputs = (int)Json.GetDouble(model, "n_outputs", 1);
                    var b = Json.Get(model, "base");
                    _base = b == null ? new double[_nOutputs] : Json.ToDoubles(b, "base");
                    _mean = Json.GetString(model, "aggregate") == "mean";
                    var trees = Json.GetList(model, "trees");
                    _trees = new Tree[trees.Count];
                    for (int i = 0; i < trees.Count; i++) _trees[i] = ReadTree((Dictionary<string, object>)trees[i], _features.Length, _nOutputs);
                }
                else throw new ModelFormatException("unknown compact model type '" + type + "'");
            }
            catch (InvalidCastException e) { throw new ModelFormatException("malformed compact model: " + e.Message); }
            catch (NullReferenceException) { throw new ModelFormatException("malformed compact model: a required field is missing"); }
            catch (KeyNotFoundException e) { throw new ModelFormatException("malformed compact model: " + e.Message); }
            catch (JsonException e) { throw new ModelFormatException("malformed compact model: " + e.Message); }
        }

        private Feature ReadFeature(Dictionary<string, object> f)
        {
            var feat = new Feature();
            if (f.ContainsKey("term"))
            {
                feat.Kind = 3;
                feat.Input = (string)f["input"];
                TextBlock block;
                if (!_texts.TryGetValue(feat.Input, out block)) throw new ModelFormatException("feature on text input '" + feat.Input + "' without its text block");
                feat.TermIndex = block.Index[(string)f["term"]];
                feat.Slot = block.Number;
            }
            else if (f.ContainsKey("product"))
            {
                feat.Kind = 2;
                var factors = (List<object>)f["product"];
                feat.FactorInputs = new string[factors.Count];
                feat.FactorSlots = new int[factors.Count];
                feat.FactorImputes = new double[factors.Count];
                for (int i = 0; i < factors.Count; i++)
                {
                    var factor = (Dictionary<string, object>)factors[i];
                    feat.FactorInputs[i] = (string)factor["input"];
                    feat.FactorSlots[i] = PreGraph.NumberSlot(feat.FactorInputs[i]);
                    feat.FactorImputes[i] = (double)factor["impute"];
                }
            }
            else if (f.ContainsKey("equals"))
            {
                feat.Kind = 1;
                feat.Input = (string)f["input"];
                feat.Slot = PreGraph.TextSlot(feat.Input);
                feat.EqualsValue = (string)f["equals"];
            }
            else
            {
                feat.Kind = 0;
                feat.Input = (string)f["input"];
                feat.Slot = PreGraph.NumberSlot(feat.Input);
                feat.Impute = (double)f["impute"];
            }
            if (f.ContainsKey("mean"))
            {
                feat.Scaled = true;
                feat.Mean = (double)f["mean"];
                feat.Scale = (double)f["scale"];
            }
            return feat;
        }

        private static Tree ReadTree(Dictionary<string, object> t, int nFeatures, int nOutputs)
        {
            var tree = new Tree
            {
                Target = (int)Json.GetDouble(t, "target", 0),
                Feature = Json.ToInts(Json.Get(t, "feature"), "feature"),
                Threshold = Json.ToDoubles(Json.Get(t, "threshold"), "threshold"),
                Left = Json.ToInts(Json.Get(t, "left"), "left"),
                Right = Json.ToInts(Json.Get(t, "right"), "right"),
            };
            var values = (List<object>)t["value"];
            int n = tree.Left.Length;
            if (tree.Right.Length != n || tree.Feature.Length != n || tree.Threshold.Length != n || values.Count != n)
                throw new ModelFormatException("a tree's node arrays differ in length");
            tree.Value = new double[n][];
            for (int i = 0; i < n; i++)
            {
                tree.Value[i] = Json.ToDoubles(values[i], "value");
                if (tree.Left[i] == -1)
                {
                    if (tree.Target + tree.Value[i].Length > nOutputs) throw new ModelFormatException("a leaf writes past the model's outputs");
                }
                else if (tree.Left[i] < 0 || tree.Left[i] >= n || tree.Right[i] < 0 || tree.Right[i] >= n || tree.Left[i] <= i || tree.Right[i] <= i
                         || tree.Feature[i] < 0 || tree.Feature[i] >= nFeatures)
                    throw new ModelFormatException("a tree node points outside the tree or the features");
            }
            return tree;
        }

        // --- evaluation ---------------------------------------------------------------------------

        /// <summary>The model's feature vector from one row's graph inputs (see <see cref="PreGraph.Transform"/>).</summary>
        public double[] FeatureVector(GraphInputs inputs)
        {
            double[] numbers = inputs.Numbers;
            string[] texts = inputs.Texts;
            var tfidf = new double[_textBlocks.Length][];
            for (int b = 0; b < _textBlocks.Length; b++) tfidf[b] = TfIdf(_textBlocks[b], texts[_textBlocks[b].Slot]);
            var vec = new double[_features.Length];
            for (int i = 0; i < _features.Length; i++)
            {
                Feature f = _features[i];
                double x;
                switch (f.Kind)
                {
                    case 3:
                        x = tfidf[f.Slot][f.TermIndex];
                        break;
                    case 2:
                        x = 1.0;
                        for (int j = 0; j < f.FactorSlots.Length; j++) x *= Numeric(numbers[f.FactorSlots[j]], f.FactorImputes[j]);
                        break;
                    case 1:
                        x = string.Equals(texts[f.Slot], f.EqualsValue, StringComparison.Ordinal) ? 1.0 : 0.0;
                        break;
                    default:
                        x = Numeric(numbers[f.Slot], f.Impute);
                        break;
                }
                if (f.Scaled) x = (x - f.Mean) / f.Scale;
                vec[i] = x;
            }
            return vec;
        }

        private static double[] TfIdf(TextBlock block, string text)
        {
            var values = new double[block.Idf.Length];
            foreach (string token in Tokens.Words2(text ?? ""))
            {
                int i;
                if (block.Index.TryGetValue(token, out i)) values[i] += 1.0;
            }
            for (int i = 0; i < values.Length; i++) values[i] *= block.Idf[i];
            if (block.L2)
            {
                double sq = 0.0;
                for (int i = 0; i < values.Length; i++) sq += values[i] * values[i];
                double norm = Math.Sqrt(sq);
                if (norm > 0.0) for (int i = 0; i < values.Length; i++) values[i] /= norm;
            }
            return values;
        }

        private static double Numeric(double x, double impute)
        {
            return double.IsNaN(x) ? impute : x;
        }

        /// <summary>Probabilities (classification) or a single value (regression) for one feature vector.</summary>
        public double[] Outputs(double[] vec)
        {
            var raw = new double[_nOutputs];
            if (!_isTrees)
            {
                for (int k = 0; k < _coef.Length; k++)
                {
                    double s = 0.0;
                    double[] c = _coef[k];
                    for (int j = 0; j < c.Length; j++) s += c[j] * vec[j];
                    raw[k] = _intercept[k] + s;
                }
            }
            else
            {
                var x32 = new float[vec.Length];
                for (int i = 0; i < vec.Length; i++) x32[i] = (float)vec[i];
                for (int t = 0; t < _trees.Length; t++)
                {
                    Tree tree = _trees[t];
                    int node = 0;
                    while (tree.Left[node] != -1)
                        node = x32[tree.Feature[node]] <= tree.Threshold[node] ? tree.Left[node] : tree.Right[node];
                    double[] v = tree.Value[node];
                    for (int j = 0; j < v.Length; j++) raw[tree.Target + j] += v[j];
                }
                if (_mean) for (int k = 0; k < raw.Length; k++) raw[k] /= _trees.Length;
                for (int k = 0; k < raw.Length; k++) raw[k] = _base[k] + raw[k];
            }
            return Link(raw);
        }

        private double[] Link(double[] raw)
        {
            if (_link == "identity" || _link == "none") return raw;
            if (_link == "logistic")
            {
                double p = Sigmoid(raw[0]);
                return new[] { 1.0 - p, p };
            }
            double top = double.NegativeInfinity;
            for (int k = 0; k < raw.Length; k++) if (raw[k] > top) top = raw[k];
            var exps = new double[raw.Length];
            double total = 0.0;
            for (int k = 0; k < raw.Length; k++) { exps[k] = Math.Exp(raw[k] - top); total += exps[k]; }
            for (int k = 0; k < raw.Length; k++) exps[k] /= total;
            return exps;
        }

        private static double Sigmoid(double z)
        {
            if (z >= 0) return 1.0 / (1.0 + Math.Exp(-z));
            double e = Math.Exp(z);
            return e / (1.0 + e);
        }

        /// <summary>The model's outputs for one raw row (feature name to value), like the server's.</summary>
        public double[] PredictOutputs(IDictionary<string, object> row, DateTime? asOf)
        {
            return Outputs(FeatureVector(PreGraph.Transform(row, asOf)));
        }

        public Prediction Predict(IDictionary<string, object> row, DateTime? asOf = null)
        {
            double[] outputs = PredictOutputs(row, asOf ?? DateTime.UtcNow);
            if (Task == "regression") return new Prediction { IsRegression = true, Value = outputs[0] };
            int top = 0;
            for (int k = 1; k < outputs.Length; k++) if (outputs[k] > outputs[top]) top = k;
            var probs = new Dictionary<string, double>(StringComparer.Ordinal);
            for (int k = 0; k < outputs.Length; k++) probs[Classes[k]] = outputs[k];
            return new Prediction { Label = Classes[top], Probabilities = probs, Confidence = outputs[top] };
        }
    }

    /// <summary>The tokenizer of the compact format's text features (<c>words2</c>).</summary>
    public static class Tokens
    {
        /// <summary>
        /// Lower-cased maximal runs of word characters of at least two characters: scikit-learn's default
        /// <c>(?u)\b\w\w+\b</c> after <c>str.lower()</c>. Word characters are Python's: letters and numbers
        /// of any script, and '_' (not combining marks).
        /// </summary>
        public static List<string> Words2(string text)
        {
            var tokens = new List<string>();
            string lower = Lower(text);
            int start = -1;
            for (int i = 0; i <= lower.Length; i++)
            {
                bool word = i < lower.Length && IsWord(lower, i);
                if (word && start < 0) start = i;
                if (!word && start >= 0)
                {
                    if (CodePoints(lower, start, i) >= 2) tokens.Add(lower.Substring(start, i - start));
                    start = -1;
                }
                if (word && char.IsHighSurrogate(lower[i])) i++;
            }
            return tokens;
        }

        /// <summary>Python's str.lower(): ToLowerInvariant plus the cases where it differs from it.</summary>
        public static string Lower(string text)
        {
            string lower = text.ToLowerInvariant();
            bool special = false;
            for (int i = 0; i < lower.Length && !special; i++)
                special = lower[i] == '\u0130' || char.GetUnicodeCategory(lower[i]) == UnicodeCategory.TitlecaseLetter;
            if (!special) return lower;
            var sb = new System.Text.StringBuilder(lower.Length + 4);
            foreach (char c in lower)
            {
                if (c == '\u0130') sb.Append("i\u0307"); // one of the few characters whose lower case is two
                else if (c == '\u01C5' || c == '\u01C8' || c == '\u01CB' || c == '\u01F2') sb.Append((char)(c + 1)); // Dž Lj Nj Dz
                else if ((c >= '\u1F88' && c <= '\u1F8F') || (c >= '\u1F98' && c <= '\u1F9F') || (c >= '\u1FA8' && c <= '\u1FAF')) sb.Append((char)(c - 8));
                else if (c == '\u1FBC' || c == '\u1FCC' || c == '\u1FFC') sb.Append((char)(c - 9));
                else sb.Append(c);
            }
            return sb.ToString();
        }

        private static int CodePoints(string s, int from, int to)
        {
            int n = 0;
            for (int i = from; i < to; i++) if (!char.IsLowSurrogate(s[i])) n++;
            return n;
        }

        private static bool IsWord(string s, int i)
        {
            char c = s[i];
            if (c == '_') return true;
            if (c < 128) return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
            UnicodeCategory cat = char.GetUnicodeCategory(s, i);
            switch (cat)
            {
                case UnicodeCategory.UppercaseLetter:
                case UnicodeCategory.LowercaseLetter:
                case UnicodeCategory.TitlecaseLetter:
                case UnicodeCategory.ModifierLetter:
                case UnicodeCategory.OtherLetter:
                case UnicodeCategory.DecimalDigitNumber:
                case UnicodeCategory.LetterNumber:
                case UnicodeCategory.OtherNumber:
                    return true;
                default:
                    return false;
            }
        }
    }
}
