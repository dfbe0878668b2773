// The server's sticky A/B hash (liveml.serving.assignment): the same player always gets the same
// variant, in every process and language.
using System;
using System.Collections.Generic;
using System.Security.Cryptography;
using System.Text;

namespace LiveML
{
    public static class VariantAssignment
    {
        public const int Buckets = 10000;

        /// <summary>sha256(utf8(salt + ':' + playerId)), first 8 bytes as an unsigned big-endian integer, modulo 10,000.</summary>
        public static int Bucket(string salt, string playerId)
        {
            byte[] digest;
            using (var sha = SHA256.Create()) digest = sha.ComputeHash(Encoding.UTF8.GetBytes(salt + ":" + playerId));
            ulong value = 0;
            for (int i = 0; i < 8; i++) value = (value << 8) | digest[i];
            return (int)(value % Buckets);
        }

        /// <summary>The variant whose cumulative range of basis points holds the bucket. The split names each
        /// variant once with non-negative basis points summing to 10,000.</summary>
        public static string VariantForBucket(int bucket, IList<KeyValuePair<string, int>> split)
        {
            Validate(split);
            int upper = 0;
            foreach (var kv in split)
            {
                upper += kv.Value;
                if (bucket < upper) return kv.Key;
            }
            throw new ArgumentOutOfRangeException("bucket", "bucket " + bucket + " outside a split summing to " + upper);
        }

        public static string Assign(string salt, string playerId, IList<KeyValuePair<string, int>> split)
        {
            return VariantForBucket(Bucket(salt, playerId), split);
        }

        private static void Validate(IList<KeyValuePair<string, int>> split)
        {
            if (split == null || split.Count == 0) throw new ArgumentException("split must name at least one variant", "split");
            var seen = new HashSet<string>(StringComparer.Ordinal);
            int total = 0;
            foreach (var kv in split)
            {
                if (!seen.Add(kv.Key)) throw new ArgumentException("split names variant '" + kv.Key + "' twice", "split");
                if (kv.Value < 0) throw new ArgumentException("split weights are non-negative basis points", "split");
                total += kv.Value;
            }
            if (total != Buckets) throw new ArgumentException("split weights must sum to " + Buckets + ", got " + total, "split");
        }
    }
}
