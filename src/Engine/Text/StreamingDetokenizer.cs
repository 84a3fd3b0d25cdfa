using System.Text;

namespace VQToken.Engine.Text;

/// <summary>
/// Turns generated ids into text one id at a time. A byte-level token can end in the middle of a
/// multi-byte UTF-8 character (an emoji is often 2-4 tokens): those bytes are held back until the
/// character is complete, so every piece returned is valid text and the pieces concatenate to
/// <see cref="QwenTokenizer.Decode"/> of all the ids. Not thread-safe: one per generation.
/// </summary>
public sealed class StreamingDetokenizer
{
    private readonly QwenTokenizer _tokenizer;
    private readonly bool _skipSpecialTokens;
    private readonly Decoder _utf8 = new UTF8Encoding(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: false).GetDecoder();
    private readonly StringBuilder _text = new();
    private char[] _chars = new char[64];

    internal StreamingDetokenizer(QwenTokenizer tokenizer, bool skipSpecialTokens)
    {
        _tokenizer = tokenizer;
        _skipSpecialTokens = skipSpecialTokens;
    }

    /// <summary>Everything returned so far.</summary>
    public string Text => _text.ToString();

    /// <summary>Adds one id; returns the text it completes (empty while a character is still partial,
    /// or for a skipped special token).</summary>
    public string Push(int id)
    {
        if (_skipSpecialTokens && _tokenizer.IsSpecialToken(id)) return string.Empty;
        return Feed(_tokenizer.TokenBytes(id), flush: false);
    }

    /// <summary>Adds several ids; returns the text they complete.</summary>
    public string Push(IEnumerable<int> ids)
    {
        var piece = new StringBuilder();
        foreach (int id in ids) piece.Append(Push(id));
        return piece.ToString();
    }

    /// <summary>Ends the stream: bytes of a character that never completed come out as U+FFFD.</summary>
    public string Flush() => Feed(ReadOnlySpan<byte>.Empty, flush: true);

    private string Feed(ReadOnlySpan<byte> bytes, bool flush)
    {
        int needed = _utf8.GetCharCount(bytes, flush: false) + 4; // + room for a flushed U+FFFD
        if (_chars.Length < needed) _chars = new char[Math.Max(needed, _chars.Length * 2)];
        int written = _utf8.GetChars(bytes, _chars, flush);
        if (written == 0) return string.Empty;
        var piece = new string(_chars, 0, written);
        _text.Append(piece);
        return piece;
    }
}
