using System.Security.Cryptography;
using System.Text;

namespace VQToken.Api.Cache;

/// <summary>Identifies the model a cached entry was made with: SHA-256 over the checkpoint's
/// config.json and its weights index (model.safetensors.index.json, or the header of each
/// .safetensors file when there is no index), first 16 bytes in hex. Changing the config or the
/// weights layout changes it, so stale entries miss instead of feeding the wrong model.</summary>
public static class ModelFingerprint
{
    public static string Compute(params IEnumerable<byte[]> parts)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        foreach (var part in parts)
        {
            // Length-prefixed so ("ab", "c") and ("a", "bc") differ.
            hash.AppendData(BitConverter.GetBytes((long)part.Length));
            hash.AppendData(part);
        }
        return Convert.ToHexStringLower(hash.GetHashAndReset())[..32];
    }

    public static string FromCheckpointDirectory(string directory)
    {
        var parts = new List<byte[]> { File.ReadAllBytes(Path.Combine(directory, "config.json")) };
        var index = Path.Combine(directory, "model.safetensors.index.json");
        if (File.Exists(index)) parts.Add(File.ReadAllBytes(index));
        else
        {
            foreach (var file in Directory.GetFiles(directory, "*.safetensors").Order(StringComparer.Ordinal))
            {
                parts.Add(Encoding.UTF8.GetBytes(Path.GetFileName(file)));
                parts.Add(SafeTensorsHeader(file));
            }
        }
        return Compute(parts);
    }

    private static byte[] SafeTensorsHeader(string path)
    {
        using var file = File.OpenRead(path);
        Span<byte> length = stackalloc byte[8];
        file.ReadExactly(length);
        long headerLength = BitConverter.ToInt64(length);
        if (headerLength <= 0 || headerLength > Math.Min(file.Length - 8, 100L << 20))
            throw new InvalidDataException($"{Path.GetFileName(path)}: invalid safetensors header length {headerLength}");
        var header = new byte[headerLength];
        file.ReadExactly(header);
        return header;
    }
}
