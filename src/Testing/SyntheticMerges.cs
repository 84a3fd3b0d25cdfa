using System.Text;
using VQToken.Engine.Text;

namespace VQToken.Testing;

/// <summary>
/// Deterministic merges for <see cref="SyntheticTokenizer"/>: first learned from a small English
/// corpus (count adjacent pairs inside Qwen2 pre-tokens, merge the most frequent, ties broken by
/// ordinal order), then, when more tokens are asked for than the corpus supports, padded with
/// merges of existing tokens (every byte pair, then token + byte, ...) in a fixed order.
/// </summary>
internal static class SyntheticMerges
{
    /// <summary>Merges ("a b", byte-level spelling) whose products, added to the 256 byte tokens, make
    /// exactly <paramref name="count"/> new tokens (in merge order).</summary>
    public static List<(string Left, string Right)> Create(int count, string corpus)
    {
        var known = new HashSet<string>(ByteLevelAlphabet.VocabularyOrder.Select(c => c.ToString()), StringComparer.Ordinal);
        var merges = Learn(count, corpus, known);
        Pad(merges, count, known);
        return merges;
    }

    private static List<(string Left, string Right)> Learn(int count, string corpus, HashSet<string> known)
    {
        // word (as a list of symbols) -> occurrences in the corpus
        var words = new List<(List<string> Symbols, int Count)>();
        var splitter = new QwenPreTokenizer();
        foreach (var group in splitter.PreTokenize(corpus).GroupBy(p => corpus.Substring(p.Offset, p.Length), StringComparer.Ordinal).OrderBy(g => g.Key, StringComparer.Ordinal))
        {
            string spelled = ByteLevelAlphabet.Encode(Encoding.UTF8.GetBytes(group.Key));
            words.Add((spelled.Select(c => c.ToString()).ToList(), group.Count()));
        }

        var merges = new List<(string, string)>();
        while (merges.Count < count)
        {
            var pairCounts = new Dictionary<(string, string), int>();
            foreach (var (symbols, n) in words)
            {
                for (int i = 0; i + 1 < symbols.Count; i++)
                    pairCounts[(symbols[i], symbols[i + 1])] = pairCounts.GetValueOrDefault((symbols[i], symbols[i + 1])) + n;
            }
            var best = pairCounts.Where(p => p.Value >= 2 && !known.Contains(p.Key.Item1 + p.Key.Item2))
                .OrderByDescending(p => p.Value)
                .ThenBy(p => p.Key.Item1, StringComparer.Ordinal).ThenBy(p => p.Key.Item2, StringComparer.Ordinal)
                .Select(p => ((string, string)?)p.Key).FirstOrDefault();
            if (best is not (string left, string right)) break;

            merges.Add((left, right));
            known.Add(left + right);
            foreach (var (symbols, _) in words) MergeInPlace(symbols, left, right);
        }
        return merges;
    }

    private static void MergeInPlace(List<string> symbols, string left, string right)
    {
        for (int i = 0; i + 1 < symbols.Count; i++)
        {
            if (symbols[i] == left && symbols[i + 1] == right)
            {
                symbols[i] = left + right;
                symbols.RemoveAt(i + 1);
            }
        }
    }

    /// <summary>Adds merges "previous-level token + byte" level by level until there are enough.</summary>
    private static void Pad(List<(string Left, string Right)> merges, int count, HashSet<string> known)
    {
        var bytes = ByteLevelAlphabet.VocabularyOrder.Select(c => c.ToString()).ToList();
        List<string> level = bytes;
        while (merges.Count < count)
        {
            var next = new List<string>();
            foreach (string left in level)
            {
                foreach (string right in bytes)
                {
                    if (merges.Count == count) return;
                    string product = left + right;
                    if (!known.Add(product)) continue;
                    merges.Add((left, right));
                    next.Add(product);
                }
            }
            if (next.Count == 0) throw new InvalidOperationException("No new token left to pad the merges with.");
            level = next;
        }
    }
}
