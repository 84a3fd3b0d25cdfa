using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using VQToken.Engine.Text;

namespace VQToken.Testing;

/// <summary>
/// Writes a small but valid Qwen2-style byte-level BPE tokenizer (vocab.json, merges.txt,
/// tokenizer.json, tokenizer_config.json, added_tokens.json) for generated random checkpoints:
/// the 256 byte tokens, deterministic merges up to <c>regularTokens</c> regular tokens, then
/// &lt;|endoftext|&gt;, &lt;|im_start|&gt;, &lt;|im_end|&gt; at ids regularTokens, +1, +2. The files load in
/// <see cref="QwenTokenizer"/> and in Hugging Face tokenizers alike. The same count always gives
/// the same files.
/// </summary>
public static class SyntheticTokenizer
{
    public const int ByteTokenCount = 256;

    /// <summary>The regular token count of the real Qwen2 vocabulary (the "full" checkpoint).</summary>
    public const int Qwen2RegularTokenCount = 151643;

    private static readonly string[] Specials = [QwenTokenizer.EndOfText, QwenTokenizer.ImStart, QwenTokenizer.ImEnd];

    private static readonly JsonWriterOptions Indented = new()
    {
        Indented = true,
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping, // write "Ġ" and CJK as they are, like Hugging Face
    };

    /// <summary>Writes the tokenizer files into <paramref name="directory"/> (created if needed).</summary>
    public static void Write(string directory, int regularTokens)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(regularTokens, ByteTokenCount);
        Directory.CreateDirectory(directory);

        var merges = SyntheticMerges.Create(regularTokens - ByteTokenCount, SyntheticCorpus.Text);
        var vocabulary = ByteLevelAlphabet.VocabularyOrder.Select(c => c.ToString())
            .Concat(merges.Select(m => m.Left + m.Right))
            .ToList(); // index = id

        WriteJson(Path.Combine(directory, "vocab.json"), w => WriteVocabulary(w, vocabulary));
        File.WriteAllText(Path.Combine(directory, "merges.txt"),
            "#version: 0.2\n" + string.Concat(merges.Select(m => $"{m.Left} {m.Right}\n")), new UTF8Encoding(false));
        WriteJson(Path.Combine(directory, "tokenizer.json"), w => WriteTokenizerJson(w, vocabulary, merges));
        WriteJson(Path.Combine(directory, "tokenizer_config.json"), w => WriteTokenizerConfig(w, regularTokens));
        WriteJson(Path.Combine(directory, "added_tokens.json"), w =>
        {
            w.WriteStartObject();
            for (int i = 0; i < Specials.Length; i++) w.WriteNumber(Specials[i], regularTokens + i);
            w.WriteEndObject();
        });
    }

    private static void WriteVocabulary(Utf8JsonWriter w, List<string> vocabulary)
    {
        w.WriteStartObject();
        for (int id = 0; id < vocabulary.Count; id++) w.WriteNumber(vocabulary[id], id);
        w.WriteEndObject();
    }

    private static void WriteTokenizerJson(Utf8JsonWriter w, List<string> vocabulary, List<(string Left, string Right)> merges)
    {
        w.WriteStartObject();
        w.WriteString("version", "1.0");
        w.WriteNull("truncation");
        w.WriteNull("padding");
        w.WriteStartArray("added_tokens");
        for (int i = 0; i < Specials.Length; i++)
        {
            w.WriteStartObject();
            w.WriteNumber("id", vocabulary.Count + i);
            w.WriteString("content", Specials[i]);
            w.WriteBoolean("single_word", false);
            w.WriteBoolean("lstrip", false);
            w.WriteBoolean("rstrip", false);
            w.WriteBoolean("normalized", false);
            w.WriteBoolean("special", true);
            w.WriteEndObject();
        }
        w.WriteEndArray();
        w.WriteStartObject("normalizer");
        w.WriteString("type", "NFC");
        w.WriteEndObject();
        w.WriteStartObject("pre_tokenizer");
        w.WriteString("type", "Sequence");
        w.WriteStartArray("pretokenizers");
        w.WriteStartObject();
        w.WriteString("type", "Split");
        w.WriteStartObject("pattern");
        w.WriteString("Regex", QwenPreTokenizer.Qwen2Pattern);
        w.WriteEndObject();
        w.WriteString("behavior", "Isolated");
        w.WriteBoolean("invert", false);
        w.WriteEndObject();
        WriteByteLevel(w, null);
        w.WriteEndArray();
        w.WriteEndObject();
        WriteByteLevel(w, "post_processor");
        WriteByteLevel(w, "decoder");
        w.WriteStartObject("model");
        w.WriteString("type", "BPE");
        w.WriteNull("dropout");
        w.WriteNull("unk_token");
        w.WriteString("continuing_subword_prefix", "");
        w.WriteString("end_of_word_suffix", "");
        w.WriteBoolean("fuse_unk", false);
        w.WriteBoolean("byte_fallback", false);
        w.WriteBoolean("ignore_merges", false);
        w.WritePropertyName("vocab");
        WriteVocabulary(w, vocabulary);
        w.WriteStartArray("merges");
        foreach (var (left, right) in merges) w.WriteStringValue($"{left} {right}");
        w.WriteEndArray();
        w.WriteEndObject();
        w.WriteEndObject();
    }

    private static void WriteByteLevel(Utf8JsonWriter w, string? property)
    {
        if (property is null) w.WriteStartObject(); else w.WriteStartObject(property);
        w.WriteString("type", "ByteLevel");
        w.WriteBoolean("add_prefix_space", false);
        w.WriteBoolean("trim_offsets", false);
        w.WriteBoolean("use_regex", false);
        w.WriteEndObject();
    }

    private static void WriteTokenizerConfig(Utf8JsonWriter w, int regularTokens)
    {
        w.WriteStartObject();
        w.WriteBoolean("add_prefix_space", false);
        w.WriteStartObject("added_tokens_decoder");
        for (int i = 0; i < Specials.Length; i++)
        {
            w.WriteStartObject((regularTokens + i).ToString(System.Globalization.CultureInfo.InvariantCulture));
            w.WriteString("content", Specials[i]);
            w.WriteBoolean("lstrip", false);
            w.WriteBoolean("normalized", false);
            w.WriteBoolean("rstrip", false);
            w.WriteBoolean("single_word", false);
            w.WriteBoolean("special", true);
            w.WriteEndObject();
        }
        w.WriteEndObject();
        w.WriteStartArray("additional_special_tokens");
        w.WriteStringValue(QwenTokenizer.ImStart);
        w.WriteStringValue(QwenTokenizer.ImEnd);
        w.WriteEndArray();
        w.WriteNull("bos_token");
        w.WriteBoolean("clean_up_tokenization_spaces", false);
        w.WriteString("eos_token", QwenTokenizer.ImEnd);
        w.WriteString("errors", "replace");
        w.WriteNumber("model_max_length", 32768);
        w.WriteString("pad_token", QwenTokenizer.EndOfText);
        w.WriteBoolean("split_special_tokens", false);
        w.WriteString("tokenizer_class", "Qwen2Tokenizer");
        w.WriteNull("unk_token");
        w.WriteEndObject();
    }

    private static void WriteJson(string path, Action<Utf8JsonWriter> write)
    {
        using var stream = File.Create(path);
        using var writer = new Utf8JsonWriter(stream, Indented);
        write(writer);
    }
}
