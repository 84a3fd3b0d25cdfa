using System.Buffers.Binary;
using System.Security.Cryptography;

namespace VQToken.Api.Videos;

/// <summary>Opaque, URL-safe video ids that sort by creation time: 48 bits of Unix milliseconds and
/// 80 random bits in lowercase Crockford base32 (26 characters, like a ULID).</summary>
public static class VideoId
{
    private const string Alphabet = "0123456789abcdefghjkmnpqrstvwxyz";
    public const int Length = 26;

    public static string New(DateTimeOffset now)
    {
        Span<byte> bytes = stackalloc byte[16];
        long ms = Math.Max(0, now.ToUnixTimeMilliseconds());
        for (int i = 0; i < 6; i++) bytes[i] = (byte)(ms >> (40 - 8 * i));
        RandomNumberGenerator.Fill(bytes[6..]);
        // 128 bits → 26 base32 digits, most significant first (the top 2 bits of the first digit are 0).
        var value = new UInt128(BinaryPrimitives.ReadUInt64BigEndian(bytes[..8]), BinaryPrimitives.ReadUInt64BigEndian(bytes[8..]));
        Span<char> chars = stackalloc char[Length];
        for (int i = Length - 1; i >= 0; i--)
        {
            chars[i] = Alphabet[(int)(value & 31)];
            value >>= 5;
        }
        return new string(chars);
    }

    /// <summary>True for strings this class could have made; stores check ids before using them in
    /// file names or keys.</summary>
    public static bool IsValid(string? id) =>
        id is { Length: Length } && id.All(c => Alphabet.Contains(c));
}
