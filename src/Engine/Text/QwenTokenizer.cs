using Microsoft.ML.Tokenizers;

namespace VQToken.Engine.Text;

/// <summary>
/// Qwen2's byte-level BPE tokenizer, loaded from a checkpoint directory (tokenizer.json, or
/// vocab.json + merges.txt + added_tokens.json). The BPE itself is Microsoft.ML.Tokenizers'
/// <see cref="BpeTokenizer"/> in byte-level mode, with Qwen2's NFC normalizer and split regex.
/// Added tokens (&lt;|endoftext|&gt;, &lt;|im_start|&gt;, &lt;|im_end|&gt;, ...) are matched here, before
/// the BPE, exactly as Hugging Face does; the BPE never knows about them, so text encoded with
/// <see cref="EncodePlainText"/> can never produce one. Thread-safe: one instance serves all requests.
/// </summary>
public sealed class QwenTokenizer
{
    public const string EndOfText = "<|endoftext|>";
    public const string ImStart = "<|im_start|>";
    public const string ImEnd = "<|im_end|>";

    private readonly BpeTokenizer _bpe;
    private readonly Dictionary<string, int> _addedIds;
    private readonly Dictionary<int, AddedToken> _addedById;
    private readonly string[] _addedByLength; // longest first, so the longest match wins at one position
    private readonly byte[]?[] _tokenBytes;   // UTF-8 bytes of every id, for the streaming detokenizer

    private QwenTokenizer(QwenTokenizerFiles files)
    {
        _bpe = BpeTokenizer.Create(new BpeOptions(files.Vocabulary)
        {
            Merges = files.Merges,
            ByteLevel = true,
            Normalizer = NfcNormalizer.Instance,
            PreTokenizer = new QwenPreTokenizer(files.SplitPattern),
        });
        _addedById = files.AddedTokens.ToDictionary(t => t.Id);
        _addedIds = files.AddedTokens.ToDictionary(t => t.Content, t => t.Id, StringComparer.Ordinal);
        _addedByLength = _addedIds.Keys.OrderByDescending(k => k.Length).ThenBy(k => k, StringComparer.Ordinal).ToArray();

        EndOfTextId = RequireAdded(EndOfText);
        ImStartId = RequireAdded(ImStart);
        ImEndId = RequireAdded(ImEnd);
        StopTokenIds = new HashSet<int> { ImEndId, EndOfTextId };
        RegularTokenCount = files.Vocabulary.Count;
        VocabularySize = Math.Max(files.Vocabulary.Values.Max(), _addedById.Keys.DefaultIfEmpty(-1).Max()) + 1;

        _tokenBytes = new byte[]?[VocabularySize];
        foreach (var (token, id) in files.Vocabulary) _tokenBytes[id] = ByteLevelAlphabet.Decode(token);
        foreach (var (id, token) in _addedById) _tokenBytes[id] = System.Text.Encoding.UTF8.GetBytes(token.Content);
    }

    /// <summary>Loads the tokenizer files of a checkpoint directory.</summary>
    public static QwenTokenizer Load(string directory) => new(QwenTokenizerFiles.Read(directory));

    public int EndOfTextId { get; }
    public int ImStartId { get; }
    public int ImEndId { get; }

    /// <summary>Generation stops on either of these: &lt;|im_end|&gt; and &lt;|endoftext|&gt;.</summary>
    public IReadOnlySet<int> StopTokenIds { get; }

    /// <summary>Number of regular (BPE) tokens: 151643 for Qwen2.</summary>
    public int RegularTokenCount { get; }

    /// <summary>Highest token id + 1, added tokens included (151646 for Qwen2; the model's
    /// embedding table may be larger, 151936, its extra rows have no text).</summary>
    public int VocabularySize { get; }

    public bool IsStopToken(int id) => StopTokenIds.Contains(id);

    /// <summary>True for added tokens flagged special (the ones <c>skipSpecialTokens</c> drops).</summary>
    public bool IsSpecialToken(int id) => _addedById.TryGetValue(id, out var t) && t.Special;

    /// <summary>The id of an added token such as "&lt;|im_end|&gt;", or null.</summary>
    public int? AddedTokenId(string content) => _addedIds.TryGetValue(content, out int id) ? id : null;

    /// <summary>
    /// Encodes like Hugging Face's <c>tokenizer.encode(text, add_special_tokens=False)</c>: added
    /// tokens written in the text become their single ids. Use it for trusted text only (the
    /// template); user text goes through <see cref="EncodePlainText"/>.
    /// </summary>
    public int[] Encode(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var ids = new List<int>();
        int start = 0;
        while (FindAddedToken(text, start) is (int index, string token))
        {
            AppendPlain(text.AsSpan(start, index - start), ids);
            ids.Add(_addedIds[token]);
            start = index + token.Length;
        }
        AppendPlain(text.AsSpan(start), ids);
        return ids.ToArray();
    }

    /// <summary>Encodes text as ordinary characters only: "&lt;|im_end|&gt;" in it becomes the tokens of
    /// those characters, never the special id (Hugging Face's <c>split_special_tokens=True</c>).</summary>
    public int[] EncodePlainText(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var ids = new List<int>();
        AppendPlain(text, ids);
        return ids.ToArray();
    }

    /// <summary>Decodes ids to text; added tokens are written out unless <paramref name="skipSpecialTokens"/>
    /// (then the ones flagged special are dropped). Ids without text (padding rows of the embedding
    /// table, negative markers such as -200) are dropped; invalid UTF-8 becomes U+FFFD.</summary>
    public string Decode(IEnumerable<int> ids, bool skipSpecialTokens = false)
    {
        ArgumentNullException.ThrowIfNull(ids);
        var text = new System.Text.StringBuilder();
        var run = new List<int>();
        foreach (int id in ids)
        {
            if (_addedById.TryGetValue(id, out var added))
            {
                FlushRun(run, text);
                if (!(skipSpecialTokens && added.Special)) text.Append(added.Content);
            }
            else if (id >= 0 && id < _tokenBytes.Length && _tokenBytes[id] is not null)
            {
                run.Add(id);
            }
        }
        FlushRun(run, text);
        return text.ToString();
    }

    /// <summary>A detokenizer for generation: feed ids one at a time, get text as soon as it is whole.</summary>
    public StreamingDetokenizer CreateStreamingDetokenizer(bool skipSpecialTokens = true) => new(this, skipSpecialTokens);

    /// <summary>The UTF-8 bytes of one token (an added token's own text); empty for ids without text.</summary>
    internal ReadOnlySpan<byte> TokenBytes(int id) =>
        id >= 0 && id < _tokenBytes.Length && _tokenBytes[id] is { } bytes ? bytes : ReadOnlySpan<byte>.Empty;

    private void FlushRun(List<int> run, System.Text.StringBuilder text)
    {
        if (run.Count == 0) return;
        text.Append(_bpe.Decode(run, considerSpecialTokens: false));
        run.Clear();
    }

    private void AppendPlain(ReadOnlySpan<char> text, List<int> ids)
    {
        if (!text.IsEmpty) ids.AddRange(_bpe.EncodeToIds(text));
    }

    private (int Index, string Token)? FindAddedToken(string text, int start)
    {
        (int Index, string Token)? best = null;
        foreach (string token in _addedByLength)
        {
            int index = text.IndexOf(token, start, StringComparison.Ordinal);
            if (index >= 0 && (best is null || index < best.Value.Index)) best = (index, token);
        }
        return best;
    }

    private int RequireAdded(string content) => _addedIds.TryGetValue(content, out int id)
        ? id
        : throw new InvalidDataException($"The tokenizer files declare no '{content}' token (Qwen2 has it).");
}
