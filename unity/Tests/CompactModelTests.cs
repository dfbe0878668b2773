using System;
using System.Collections.Generic;
using NUnit.Framework;

namespace LiveML.Tests
{
    [TestFixture]
    public class CompactModelTests
    {
        [TestCase("linear-binary")]
        [TestCase("linear-multiclass")]
        [TestCase("linear-regression")]
        [TestCase("random_forest-binary")]
        [TestCase("random_forest-multiclass")]
        [TestCase("random_forest-regression")]
        [TestCase("extra_trees-binary")]
        [TestCase("extra_trees-multiclass")]
        [TestCase("extra_trees-regression")]
        [TestCase("gradient_boosting-binary")]
        [TestCase("gradient_boosting-multiclass")]
        [TestCase("gradient_boosting-regression")]
        [TestCase("hist_gradient_boosting-binary")]
        [TestCase("hist_gradient_boosting-multiclass")]
        [TestCase("hist_gradient_boosting-regression")]
        [TestCase("bench-gb100")]
        public void MatchesThePythonRuntime(string name)
        {
            CompactModel model = CompactModel.Parse(Fixtures.Text("compact/" + name + ".json"));
            var expected = Fixtures.Object("compact/" + name + ".expected.json");
            var asOf = DateTime.Parse((string)expected["as_of"], null, System.Globalization.DateTimeStyles.AdjustToUniversal);
            var rows = (List<object>)expected["rows"];
            var outputs = (List<object>)expected["outputs"];
            Assert.That(rows.Count, Is.GreaterThanOrEqualTo(100));
            Assert.AreEqual(rows.Count, outputs.Count);
            double worst = 0;
            for (int i = 0; i < rows.Count; i++)
            {
                double[] got = model.PredictOutputs((Dictionary<string, object>)rows[i], asOf);
                double[] want = Json.ToDoubles(outputs[i], "outputs");
                Assert.AreEqual(want.Length, got.Length, "row " + i);
                for (int k = 0; k < want.Length; k++)
                {
                    double diff = Math.Abs(got[k] - want[k]) / (model.Task == "regression" ? Math.Max(1.0, Math.Abs(want[k])) : 1.0);
                    worst = Math.Max(worst, diff);
                    Assert.That(diff, Is.LessThanOrEqualTo(1e-5), name + " row " + i + " output " + k + ": " + got[k] + " vs " + want[k]);
                }
            }
            Console.WriteLine("  " + name + ": " + rows.Count + " rows, max difference " + worst.ToString("G3"));
        }

        [Test]
        public void TheDemoContractWithTextHasADeviceModel()
        {
            var doc = Fixtures.Object("compact/linear-binary.json");
            Assert.IsNotNull(Json.GetObject(Json.GetObject(doc, "texts"), "feedback"), "the feedback column is carried as TF-IDF");
            var model = new CompactModel(doc);
            var row = new Dictionary<string, object> { { "feedback", "too many ads, laggy" }, { "device", "ios" }, { "level", 3 } };
            Prediction p = model.Predict(row, new DateTime(2026, 11, 30, 0, 0, 0, DateTimeKind.Utc));
            Assert.IsTrue(p.Label == "0" || p.Label == "1");
            Assert.AreEqual(1.0, p.Probabilities["0"] + p.Probabilities["1"], 1e-12);
        }

        [Test]
        public void TokensAreScikitLearns()
        {
            foreach (object o in (List<object>)Json.Parse(Fixtures.Text("tokens.json")))
            {
                var c = (Dictionary<string, object>)o;
                var want = new List<string>();
                foreach (object t in (List<object>)c["tokens"]) want.Add((string)t);
                CollectionAssert.AreEqual(want, Tokens.Words2((string)c["text"]), "text: " + c["text"]);
            }
        }

        [Test]
        public void TheTextFoldIsPythons()
        {
            var cases = (List<object>)Json.Parse(Fixtures.Text("text_fold.json"));
            Assert.That(cases.Count, Is.GreaterThan(4000), "every code point is covered");
            int checkedChars = 0;
            foreach (object o in cases)
            {
                var c = (Dictionary<string, object>)o;
                string text = (string)c["text"], want = (string)c["fold"];
                string got = TextFold.Fold(text);
                if (got != want)
                {
                    int at = 0;
                    while (at < Math.Min(got.Length, want.Length) && got[at] == want[at]) at++;
                    Assert.Fail("fold of " + Escape(text) + " differs at " + at + ": got " + Escape(got.Substring(at, Math.Min(40, got.Length - at))) + ", Python " + Escape(want.Substring(at, Math.Min(40, want.Length - at))));
                }
                checkedChars += text.Length;
            }
            Console.WriteLine("  text fold: " + cases.Count + " strings, " + checkedChars + " UTF-16 units, Unicode " + TextFold.UnicodeVersion);
        }

        [Test]
        public void TextIsFoldedOnlyByFormatTwoPreGraphs()
        {
            var row = new Dictionary<string, object> { { "t", "TRÈS_bien 日本" } };
            foreach (int version in new[] { 1, 2 })
            {
                var spec = (Dictionary<string, object>)Json.Parse("{\"version\": " + version + ", \"columns\": [{\"name\": \"t\", \"type\": \"text\"}]}");
                var inputs = new PreGraph(spec).Transform(row, null);
                Assert.AreEqual(version == 2 ? "tr_e8_s__bien _65e5__672c_" : "TRÈS_bien 日本", inputs.Text("t"));
            }
            var future = (Dictionary<string, object>)Json.Parse("{\"version\": 3, \"columns\": []}");
            var e = Assert.Throws<ModelFormatException>(() => new PreGraph(future));
            StringAssert.Contains("version 3 is not supported", e.Message);
        }

        private static string Escape(string s)
        {
            var sb = new System.Text.StringBuilder();
            foreach (char ch in s) sb.Append(ch < 128 && ch >= 32 ? ch.ToString() : "\\u" + ((int)ch).ToString("x4"));
            return sb.ToString();
        }

        [Test]
        public void BadFeatureValuesNameTheColumn()
        {
            CompactModel model = CompactModel.Parse(Fixtures.Text("compact/linear-binary.json"));
            var e = Assert.Throws<FeatureException>(() => model.Predict(new Dictionary<string, object> { { "level", "high" } }));
            Assert.AreEqual("level", e.Field);
            var d = Assert.Throws<FeatureException>(() => model.Predict(new Dictionary<string, object> { { "signup_date", "yesterday" } }));
            Assert.AreEqual("signup_date", d.Field);
        }

        [Test]
        public void MalformedDocumentsAreRefusedWithAReason()
        {
            Assert.Throws<ModelFormatException>(() => CompactModel.Parse("{\"format\":\"other\",\"version\":1}"));
            Assert.Throws<ModelFormatException>(() => CompactModel.Parse("{\"format\":\"liveml.compact\""));
            string good = Fixtures.Text("compact/gradient_boosting-binary.json");
            var doc = Json.ParseObject(good);
            var tree = (Dictionary<string, object>)((List<object>)((Dictionary<string, object>)doc["model"])["trees"])[0];
            ((List<object>)tree["left"])[0] = 99999.0;
            var e = Assert.Throws<ModelFormatException>(() => new CompactModel(doc));
            StringAssert.Contains("outside", e.Message);
            var linear = Fixtures.Object("compact/linear-binary.json");
            ((Dictionary<string, object>)((List<object>)linear["features"])[0])["input"] = "no_such_column";
            var missing = Assert.Throws<ModelFormatException>(() => new CompactModel(linear));
            StringAssert.Contains("no_such_column", missing.Message);
        }
    }

    [TestFixture]
    public class VariantAssignmentTests
    {
        [Test]
        public void ReproducesThePublishedVectors()
        {
            var doc = Fixtures.Object("assignment_vectors.json");
            var vectors = (List<object>)doc["vectors"];
            Assert.That(vectors.Count, Is.GreaterThan(10));
            foreach (object o in vectors)
            {
                var v = (Dictionary<string, object>)o;
                var split = new List<KeyValuePair<string, int>>();
                foreach (object s in (List<object>)v["split"])
                {
                    var pair = (List<object>)s;
                    split.Add(new KeyValuePair<string, int>((string)pair[0], (int)(double)pair[1]));
                }
                string salt = (string)v["salt"], player = (string)v["player_id"];
                Assert.AreEqual((int)(double)v["bucket"], VariantAssignment.Bucket(salt, player), salt + "/" + player);
                Assert.AreEqual((string)v["variant"], VariantAssignment.Assign(salt, player, split), salt + "/" + player);
            }
        }

        [Test]
        public void RefusesASplitThatDoesNotSumToTenThousand()
        {
            var split = new List<KeyValuePair<string, int>> { new KeyValuePair<string, int>("A", 5000), new KeyValuePair<string, int>("B", 4000) };
            Assert.Throws<ArgumentException>(() => VariantAssignment.Assign("s", "p", split));
        }
    }

    [TestFixture]
    public class JsonTests
    {
        [Test]
        public void RoundTripsValues()
        {
            var doc = new Dictionary<string, object> { { "s", "a\"b\\c\n\u0001é" }, { "n", 1.5 }, { "i", 3 }, { "b", true }, { "z", null }, { "l", new List<object> { 1.0, "x" } } };
            var back = Json.ParseObject(Json.Serialize(doc));
            Assert.AreEqual("a\"b\\c\n\u0001é", back["s"]);
            Assert.AreEqual(1.5, back["n"]);
            Assert.AreEqual(3.0, back["i"]);
            Assert.AreEqual(true, back["b"]);
            Assert.IsNull(back["z"]);
            Assert.AreEqual(2, ((List<object>)back["l"]).Count);
        }

        [TestCase("{\"a\":}")]
        [TestCase("[1,2")]
        [TestCase("{\"a\":1} x")]
        [TestCase("\"\\q\"")]
        public void RefusesInvalidJson(string text)
        {
            Assert.Throws<JsonException>(() => Json.Parse(text));
        }

        [Test]
        public void ReadsPythonsNonFiniteNumbers()
        {
            var l = (List<object>)Json.Parse("[NaN, Infinity, -Infinity, -1e-3]");
            Assert.IsTrue(double.IsNaN((double)l[0]));
            Assert.AreEqual(double.PositiveInfinity, l[1]);
            Assert.AreEqual(double.NegativeInfinity, l[2]);
            Assert.AreEqual(-0.001, l[3]);
        }
    }
}
