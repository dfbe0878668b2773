// The pre-graph's text fold, identical to the server's liveml.inference.pregraph.fold_text: text as
// ASCII with the same words, so the model's tokenizer sees what it saw in training.
using System;
using System.Globalization;
using System.Text;

namespace LiveML
{
    /// <summary>
    /// Folds text to ASCII: each character lowered as Python's <c>str.lower()</c> lowers it alone, then
    /// '_' becomes "__", a non-ASCII word character (Python's <c>str.isalnum()</c>) "_&lt;hex code point&gt;_"
    /// and any other non-ASCII character a space. The Unicode tables are Python's (TextFoldTables.cs),
    /// not .NET's, which follow another Unicode version.
    /// </summary>
    public static partial class TextFold
    {
        private static readonly int[] LowerFrom, WordFirst, WordLast;
        private static readonly string[] LowerTo;

        static TextFold()
        {
            string[] lowered, extents;
            Unpack(LowerTable, out LowerFrom, out lowered);
            LowerTo = Array.ConvertAll(lowered, v => string.Concat(Array.ConvertAll(v.Split('.'), h => char.ConvertFromUtf32(Hex(h)))));
            Unpack(WordTable, out WordFirst, out extents);
            WordLast = new int[WordFirst.Length];
            for (int k = 0; k < WordFirst.Length; k++) WordLast[k] = WordFirst[k] + Hex(extents[k]);
        }

        /// <summary>A packed table's entries ("step:value" joined by ','; the step from the previous
        /// entry's code point): their code points and their values.</summary>
        private static void Unpack(string table, out int[] codePoints, out string[] values)
        {
            string[] entries = table.Split(',');
            codePoints = new int[entries.Length];
            values = new string[entries.Length];
            int cp = 0;
            for (int i = 0; i < entries.Length; i++)
            {
                int colon = entries[i].IndexOf(':');
                cp += Hex(entries[i].Substring(0, colon));
                codePoints[i] = cp;
                values[i] = entries[i].Substring(colon + 1);
            }
        }

        private static int Hex(string digits) { return int.Parse(digits, NumberStyles.HexNumber, CultureInfo.InvariantCulture); }

        public static string Fold(string text)
        {
            if (text == null) return null;
            bool plain = true;
            for (int i = 0; i < text.Length && plain; i++) plain = text[i] < 128 && text[i] != '_' && (text[i] < 'A' || text[i] > 'Z');
            if (plain) return text;
            var sb = new StringBuilder(text.Length + 16);
            for (int i = 0; i < text.Length; i++)
            {
                int cp = text[i];
                // By code point: an astral character is two UTF-16 units; a lone surrogate stays one.
                if (char.IsHighSurrogate(text, i) && i + 1 < text.Length && char.IsLowSurrogate(text[i + 1]))
                {
                    cp = char.ConvertToUtf32(text[i], text[i + 1]);
                    i++;
                }
                int k = cp < 128 ? -1 : Array.BinarySearch(LowerFrom, cp);
                if (k < 0)
                {
                    AppendLowered(sb, cp);
                    continue;
                }
                string lower = LowerTo[k];
                for (int j = 0; j < lower.Length; j++)
                {
                    int lc = lower[j];
                    if (char.IsHighSurrogate(lower, j))
                    {
                        lc = char.ConvertToUtf32(lower[j], lower[j + 1]);
                        j++;
                    }
                    AppendLowered(sb, lc);
                }
            }
            return sb.ToString();
        }

        /// <summary>Whether Python's <c>\w</c> matches the code point (<c>str.isalnum()</c> or '_').</summary>
        public static bool IsWord(int cp)
        {
            if (cp < 128) return cp == '_' || (cp >= 'a' && cp <= 'z') || (cp >= 'A' && cp <= 'Z') || (cp >= '0' && cp <= '9');
            int k = Array.BinarySearch(WordFirst, cp);
            if (k >= 0) return true;
            k = ~k - 1;
            return k >= 0 && cp <= WordLast[k];
        }

        private static void AppendLowered(StringBuilder sb, int cp)
        {
            if (cp < 128)
            {
                if (cp == '_') sb.Append("__");
                else sb.Append(cp >= 'A' && cp <= 'Z' ? (char)(cp + 32) : (char)cp);
            }
            else if (IsWord(cp)) sb.Append('_').Append(cp.ToString("x", CultureInfo.InvariantCulture)).Append('_');
            else sb.Append(' ');
        }
    }
}
