using System.Globalization;
using System.Text.Json;

namespace VQToken.Engine.Text;

/// <summary>An added (special) token as the checkpoint declares it.</summary>
internal sealed record AddedToken(string Content, int Id, bool Special);

/// <summary>
/// The parts of a checkpoint's tokenizer files the tokenizer needs: the regular byte-level BPE
/// vocabulary, the merges in rank order, the added tokens and the pre-tokenizer regex. Read from
/// tokenizer.json when present (it holds everything), otherwise from vocab.json + merges.txt +
/// added_tokens.json / tokenizer_config.json, as Hugging Face's slow Qwen2Tokenizer does.
/// </summary>
internal sealed record QwenTokenizerFiles(
    Dictionary<string, int> Vocabulary,
    List<string> Merges,
    List<AddedToken> AddedTokens,
    string? SplitPattern)
{
    public static QwenTokenizerFiles Read(string directory)
    {
        if (!Directory.Exists(directory))
            throw new DirectoryNotFoundException($"Tokenizer directory '{directory}' does not exist.");
        string tokenizerJson = Path.Combine(directory, "tokenizer.json");
        if (File.Exists(tokenizerJson)) return ReadTokenizerJson(tokenizerJson);
        string vocabJson = Path.Combine(directory, "vocab.json"), mergesTxt = Path.Combine(directory, "merges.txt");
        if (File.Exists(vocabJson) && File.Exists(mergesTxt)) return ReadVocabAndMerges(directory, vocabJson, mergesTxt);
        throw new FileNotFoundException(
            $"No tokenizer in '{directory}': expected tokenizer.json, or vocab.json and merges.txt.");
    }

    private static QwenTokenizerFiles ReadTokenizerJson(string path)
    {
        using var stream = File.OpenRead(path);
        using var document = JsonDocument.Parse(stream);
        JsonElement root = document.RootElement;
        JsonElement model = root.GetProperty("model");
        if (model.TryGetProperty("type", out var type) && type.GetString() is { } t && t != "BPE")
            throw new InvalidDataException($"{path}: model type '{t}' is not BPE.");

        var vocabulary = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (JsonProperty entry in model.GetProperty("vocab").EnumerateObject())
            vocabulary[entry.Name] = entry.Value.GetInt32();

        var merges = new List<string>();
        foreach (JsonElement merge in model.GetProperty("merges").EnumerateArray())
        {
            // Older files write "a b", newer ones ["a", "b"].
            merges.Add(merge.ValueKind == JsonValueKind.Array
                ? $"{merge[0].GetString()} {merge[1].GetString()}"
                : merge.GetString() ?? throw new InvalidDataException($"{path}: null merge entry."));
        }

        var added = new List<AddedToken>();
        if (root.TryGetProperty("added_tokens", out var addedTokens))
        {
            foreach (JsonElement token in addedTokens.EnumerateArray())
            {
                bool special = !token.TryGetProperty("special", out var s) || s.GetBoolean();
                added.Add(new AddedToken(token.GetProperty("content").GetString()!, token.GetProperty("id").GetInt32(), special));
            }
        }
        return new QwenTokenizerFiles(vocabulary, merges, added, FindSplitPattern(root));
    }

    /// <summary>The regex of the first "Split" pre-tokenizer (alone or in a "Sequence"), if any.</summary>
    private static string? FindSplitPattern(JsonElement root)
    {
        if (!root.TryGetProperty("pre_tokenizer", out var pre) || pre.ValueKind != JsonValueKind.Object) return null;
        IEnumerable<JsonElement> steps = pre.TryGetProperty("pretokenizers", out var list) ? list.EnumerateArray() : [pre];
        foreach (JsonElement step in steps)
        {
            if (step.TryGetProperty("type", out var type) && type.GetString() == "Split"
                && step.TryGetProperty("pattern", out var pattern) && pattern.TryGetProperty("Regex", out var regex))
                return regex.GetString();
        }
        return null;
    }

    private static QwenTokenizerFiles ReadVocabAndMerges(string directory, string vocabJson, string mergesTxt)
    {
        Dictionary<string, int> vocabulary;
        using (var stream = File.OpenRead(vocabJson))
            vocabulary = JsonSerializer.Deserialize<Dictionary<string, int>>(stream)
                ?? throw new InvalidDataException($"{vocabJson} is empty.");

        var merges = new List<string>();
        foreach (string raw in File.ReadLines(mergesTxt))
        {
            string line = raw.TrimEnd('\r');
            if (line.Length == 0 || line.StartsWith("#version", StringComparison.Ordinal)) continue;
            merges.Add(line);
        }
        return new QwenTokenizerFiles(vocabulary, merges, ReadAddedTokens(directory), null);
    }

    /// <summary>Added tokens from tokenizer_config.json's "added_tokens_decoder", then added_tokens.json.</summary>
    private static List<AddedToken> ReadAddedTokens(string directory)
    {
        var byId = new SortedDictionary<int, AddedToken>();
        string config = Path.Combine(directory, "tokenizer_config.json");
        if (File.Exists(config))
        {
            using var document = JsonDocument.Parse(File.ReadAllText(config));
            if (document.RootElement.TryGetProperty("added_tokens_decoder", out var decoder))
            {
                foreach (JsonProperty entry in decoder.EnumerateObject())
                {
                    int id = int.Parse(entry.Name, CultureInfo.InvariantCulture);
                    bool special = !entry.Value.TryGetProperty("special", out var s) || s.GetBoolean();
                    byId[id] = new AddedToken(entry.Value.GetProperty("content").GetString()!, id, special);
                }
            }
        }
        string addedJson = Path.Combine(directory, "added_tokens.json");
        if (File.Exists(addedJson))
        {
            var added = JsonSerializer.Deserialize<Dictionary<string, int>>(File.ReadAllText(addedJson)) ?? [];
            foreach (var (content, id) in added) byId.TryAdd(id, new AddedToken(content, id, Special: true));
        }
        return byId.Values.ToList();
    }
}
