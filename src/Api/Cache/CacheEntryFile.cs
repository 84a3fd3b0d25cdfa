using System.Globalization;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using VQToken.Api.Storage;
using VQToken.Engine.Checkpoints;
using VQToken.Engine.Compression;
using VQToken.Engine.Runtime;

namespace VQToken.Api.Cache;

/// <summary>A cache entry as a safetensors file (docs/STORAGE.md): "codebook" F32 [K, D] and "index_map" I16
/// [T, g, g] (VQToken modes) or "tokens" F32 [N, D] (full mode), and "frame_times" F32 [T] (seconds; optional, older
/// entries lack it); the metadata holds the format, the model
/// fingerprint, the settings, the counts and a SHA-256 over the other metadata and the data.</summary>
public static class CacheEntryFile
{
    public const string Format = "vqtoken-cache/2";
    private const string Checksum = "sha256";
    private static readonly byte[] PreviousFormatMagic = "VQTCACHE"u8.ToArray();

    public static byte[] Write(CacheEntry entry)
    {
        if (!BitConverter.IsLittleEndian) throw new PlatformNotSupportedException("cache entries are written on little-endian hosts");
        var encoding = entry.Encoding;
        var tensors = new List<RawTensor>();
        if (encoding.Compressed is { } c)
        {
            tensors.Add(new("codebook", "F32", [c.K, c.Dim], MemoryMarshal.AsBytes(c.CodebookValues).ToArray()));
            tensors.Add(new("index_map", "I16", [c.Frames, c.Grid, c.Grid], MemoryMarshal.AsBytes(c.IndexMapValues).ToArray()));
        }
        else
        {
            var tokens = encoding.FullTokens ?? throw new ArgumentException("a full-mode encoding needs its tokens", nameof(entry));
            tensors.Add(new("tokens", "F32", [tokens.Length / encoding.Dim, encoding.Dim], MemoryMarshal.AsBytes(tokens.AsSpan()).ToArray()));
        }
        if (entry.FrameTimes is { } times)
        {
            if (times.Count != encoding.Frames) throw new ArgumentException($"{times.Count} frame times for {encoding.Frames} frames", nameof(entry));
            tensors.Add(new("frame_times", "F32", [times.Count], MemoryMarshal.AsBytes(times.Select(t => (float)t).ToArray().AsSpan()).ToArray()));
        }
        var metadata = new Dictionary<string, string>
        {
            ["format"] = Format,
            ["model_fingerprint"] = entry.ModelFingerprint,
            ["settings"] = JsonSerializer.Serialize(entry.Settings, StorageJsonContext.Default.CompressionSettings),
            ["created_at"] = entry.CreatedAt.ToString("O", CultureInfo.InvariantCulture),
            ["dim"] = Str(encoding.Dim),
            ["frames"] = Str(encoding.Frames),
            ["original_tokens"] = Str(encoding.OriginalTokens),
        };
        metadata[Checksum] = Convert.ToHexString(Hash(metadata, tensors.Select(t => t.Data)));
        return SafeTensorsBytes.Write(tensors, metadata);
    }

    /// <summary>Never throws and never returns wrong data: a hit, a miss for an entry of the previous format
    /// (recomputed from the source, as for no entry), or corrupt with the reason.</summary>
    public static CacheLookup Read(ReadOnlyMemory<byte> bytes)
    {
        if (bytes.Span.StartsWith(PreviousFormatMagic)) return CacheLookup.Miss with { Reason = "the entry was written by the previous cache format" };
        try
        {
            var (tensors, metadata) = SafeTensorsBytes.Read(bytes);
            if (metadata.GetValueOrDefault("format") != Format) throw new InvalidDataException($"format is '{metadata.GetValueOrDefault("format")}', expected {Format}");
            var data = bytes[(8 + (int)BitConverter.ToInt64(bytes.Span[..8]))..];   // valid: Read checked the header length
            if (!string.Equals(metadata.GetValueOrDefault(Checksum), Convert.ToHexString(Hash(metadata, [data])), StringComparison.Ordinal))
                throw new InvalidDataException("checksum mismatch (SHA-256 over metadata and data)");
            return CacheLookup.Hit(Decode(tensors, metadata));
        }
        catch (Exception e) when (e is InvalidDataException or JsonException or ArgumentException or FormatException or OverflowException or KeyNotFoundException)
        {
            return CacheLookup.Corrupt($"entry is invalid: {e.Message}");
        }
    }

    private static CacheEntry Decode(IReadOnlyDictionary<string, RawTensor> tensors, IReadOnlyDictionary<string, string> metadata)
    {
        var settings = JsonSerializer.Deserialize(Required(metadata, "settings"), StorageJsonContext.Default.CompressionSettings)
            ?? throw new InvalidDataException("settings are null");
        if (settings.Problems().Values.FirstOrDefault() is [var problem, ..]) throw new InvalidDataException($"settings: {problem}");
        int dim = Int(metadata, "dim"), frames = Int(metadata, "frames"), original = Int(metadata, "original_tokens");
        VideoEncoding encoding;
        if (settings.Mode == CompressionMode.Full)
        {
            var tokens = Tensor(tensors, "tokens", "F32", 2);
            if (tokens.Shape[1] != dim) throw new InvalidDataException($"tokens are {tokens.Shape[1]} wide, dim is {dim}");
            var values = MemoryMarshal.Cast<byte, float>(tokens.Data.Span).ToArray();
            encoding = new VideoEncoding
            {
                Mode = settings.Mode, FullTokens = values, Dim = dim, Frames = frames, OriginalTokens = original,
                VisualTokens = (int)tokens.Shape[0],
            };
        }
        else
        {
            var codebook = Tensor(tensors, "codebook", "F32", 2);
            var indexMap = Tensor(tensors, "index_map", "I16", 3);
            if (codebook.Shape[1] != dim || indexMap.Shape[0] != frames || indexMap.Shape[1] != indexMap.Shape[2])
                throw new InvalidDataException("codebook or index map shape disagrees with the metadata");
            var compressed = CompressedVideo.FromArrays(frames, (int)indexMap.Shape[1], (int)codebook.Shape[0], dim,
                MemoryMarshal.Cast<byte, float>(codebook.Data.Span).ToArray(), MemoryMarshal.Cast<byte, short>(indexMap.Data.Span).ToArray(), settings);
            encoding = new VideoEncoding
            {
                Mode = settings.Mode, Compressed = compressed, Dim = dim, Frames = frames, OriginalTokens = original,
                VisualTokens = VideoEncoding.VQTokenCount(compressed.TokenPath, frames, compressed.K),
            };
        }
        var created = DateTimeOffset.Parse(Required(metadata, "created_at"), CultureInfo.InvariantCulture, DateTimeStyles.RoundtripKind);
        return new CacheEntry(Required(metadata, "model_fingerprint"), encoding) { CreatedAt = created, FrameTimes = FrameTimes(tensors, frames) };
    }

    /// <summary>SHA-256 over the metadata (sorted "key=value" lines, the checksum itself left out), then the data section.</summary>
    private static byte[] Hash(IReadOnlyDictionary<string, string> metadata, IEnumerable<ReadOnlyMemory<byte>> data)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        foreach (var (key, value) in metadata.Where(m => m.Key != Checksum).OrderBy(m => m.Key, StringComparer.Ordinal))
            hash.AppendData(Encoding.UTF8.GetBytes($"{key.Length}:{key}={value.Length}:{value}\n"));
        foreach (var part in data) hash.AppendData(part.Span);
        return hash.GetHashAndReset();
    }

    /// <summary>The optional "frame_times" [T], back at the millisecond they were written with (F32 holds them to
    /// about 1e-7 relative).</summary>
    private static double[]? FrameTimes(IReadOnlyDictionary<string, RawTensor> tensors, int frames)
    {
        if (!tensors.ContainsKey("frame_times")) return null;
        var times = Tensor(tensors, "frame_times", "F32", 1);
        if (times.Shape[0] != frames) throw new InvalidDataException($"{times.Shape[0]} frame times for {frames} frames");
        return MemoryMarshal.Cast<byte, float>(times.Data.Span).ToArray().Select(t => float.IsFinite(t) ? Math.Round(t, 3) : throw new InvalidDataException("a frame time is not finite")).ToArray();
    }

    private static RawTensor Tensor(IReadOnlyDictionary<string, RawTensor> tensors, string name, string dtype, int rank) =>
        tensors.GetValueOrDefault(name) is { } t && t.DType == dtype && t.Shape.Length == rank
            ? t : throw new InvalidDataException($"no {dtype} tensor '{name}' of rank {rank}");

    private static string Str(int value) => value.ToString(CultureInfo.InvariantCulture);

    private static string Required(IReadOnlyDictionary<string, string> metadata, string key) =>
        metadata.GetValueOrDefault(key) ?? throw new InvalidDataException($"missing metadata '{key}'");

    private static int Int(IReadOnlyDictionary<string, string> metadata, string key) =>
        int.TryParse(Required(metadata, key), NumberStyles.None, CultureInfo.InvariantCulture, out var v) ? v : throw new InvalidDataException($"metadata '{key}' is not a count");
}
