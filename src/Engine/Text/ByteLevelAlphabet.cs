namespace VQToken.Engine.Text;

/// <summary>
/// The GPT-2 / Qwen2 byte-level alphabet: every byte 0..255 is written as one printable character
/// in vocab.json and merges.txt (space is 'Ġ', newline 'Ċ'). Printable Latin-1 bytes stand for
/// themselves; the other 68 bytes take the characters U+0100 onwards, in byte order.
/// </summary>
internal static class ByteLevelAlphabet
{
    private static readonly char[] ByteToChar = BuildByteToChar();
    private static readonly Dictionary<char, byte> CharToByte =
        Enumerable.Range(0, 256).ToDictionary(b => ByteToChar[b], b => (byte)b);

    /// <summary>The 256 byte characters in the order GPT-2 vocabularies list them (printable ones first).</summary>
    public static IReadOnlyList<char> VocabularyOrder { get; } = BuildVocabularyOrder();

    public static char ToChar(byte b) => ByteToChar[b];

    /// <summary>The byte-level spelling of UTF-8 bytes, e.g. " hi" -> "Ġhi".</summary>
    public static string Encode(ReadOnlySpan<byte> bytes)
    {
        var chars = new char[bytes.Length];
        for (int i = 0; i < bytes.Length; i++) chars[i] = ByteToChar[bytes[i]];
        return new string(chars);
    }

    /// <summary>The bytes a byte-level token stands for, or null when it holds a character outside the alphabet.</summary>
    public static byte[]? Decode(string token)
    {
        var bytes = new byte[token.Length];
        for (int i = 0; i < token.Length; i++)
        {
            if (!CharToByte.TryGetValue(token[i], out bytes[i])) return null;
        }
        return bytes;
    }

    private static bool IsPrintable(int b) => b is >= '!' and <= '~' or >= 0xA1 and <= 0xAC or >= 0xAE and <= 0xFF;

    private static char[] BuildByteToChar()
    {
        var map = new char[256];
        int next = 256;
        for (int b = 0; b < 256; b++) map[b] = IsPrintable(b) ? (char)b : (char)next++;
        return map;
    }

    private static char[] BuildVocabularyOrder()
    {
        var printable = Enumerable.Range(0, 256).Where(IsPrintable);
        var others = Enumerable.Range(0, 256).Where(b => !IsPrintable(b));
        return printable.Concat(others).Select(b => ByteToChar[b]).ToArray();
    }
}
