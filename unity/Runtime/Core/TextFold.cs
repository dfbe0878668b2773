// The pre-graph's text fold, identical to the server's liveml.inference.pregraph.fold_text: text as
// ASCII with the same words, so the model's tokenizer sees what it saw in training.
using System;
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
            else if (IsWord(cp)) sb.Append('_').Append(cp.ToString("x", System.Globalization.CultureInfo.InvariantCulture)).Append('_');
            else sb.Append(' ');
        }
    }
}
