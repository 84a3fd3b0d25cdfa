using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text.Json;

namespace VQToken.Api.Storage;

/// <summary>The binary file of a cached entry, version 1 (docs/STORAGE.md):
/// <code>
/// "VQTCACHE" (8) | version u16 LE | reserved u16 = 0 | header length u32 LE
/// | header (UTF-8 JSON, <see cref="CompressedEntryHeader"/>) | payload (arrays, little-endian, back to back)
/// | SHA-256 (32) of every byte before it
/// </code></summary>
public static class CompressedEntryFormat
{
    public const ushort Version = 1;
    private static readonly byte[] Magic = "VQTCACHE"u8.ToArray();
    private const int PrefixLength = 16;
    private const int TrailerLength = 32;
    private const int MaxHeaderLength = 1 << 20;

    public static byte[] Write(CompressedVideoEntry entry)
    {
        if (entry.Validate() is { } problem) throw new ArgumentException($"invalid cache entry: {problem}", nameof(entry));
        string floatType = entry.Precision == FloatPrecision.Float16 ? "f16" : "f32";
        int floatSize = entry.Precision == FloatPrecision.Float16 ? 2 : 4;
        string indexType = entry.CodebookSize <= 256 ? "u8" : "u16";
        int indexSize = indexType == "u8" ? 1 : 2;

        var tensors = new List<CompressedEntryTensor>();
        long offset = 0;
        void Add(string name, string dtype, long[] shape, long length) { tensors.Add(new(name, dtype, shape, offset, length)); offset += length; }
        Add("codebook", floatType, [entry.CodebookSize, entry.Dim], (long)entry.Codebook.Length * floatSize);
        Add("index_map", indexType, [entry.Frames, entry.GridHeight, entry.GridWidth], (long)entry.IndexMap.Length * indexSize);
        if (entry.Tokens is not null) Add("tokens", floatType, [entry.TokenCount, entry.Dim], (long)entry.Tokens.Length * floatSize);

        var header = JsonSerializer.SerializeToUtf8Bytes(new CompressedEntryHeader
        {
            ModelFingerprint = entry.ModelFingerprint,
            Settings = entry.Settings,
            CreatedAt = entry.CreatedAt,
            Tensors = tensors,
        }, StorageJsonContext.Default.CompressedEntryHeader);

        var file = new byte[checked(PrefixLength + header.Length + offset + TrailerLength)];
        Magic.CopyTo(file, 0);
        BinaryPrimitives.WriteUInt16LittleEndian(file.AsSpan(8), Version);
        BinaryPrimitives.WriteUInt32LittleEndian(file.AsSpan(12), (uint)header.Length);
        header.CopyTo(file, PrefixLength);
        var payload = file.AsSpan(PrefixLength + header.Length, (int)offset);
        WriteFloats(payload[(int)tensors[0].Offset..], entry.Codebook, entry.Precision);
        var indexBytes = payload[(int)tensors[1].Offset..];
        for (int i = 0; i < entry.IndexMap.Length; i++)
        {
            if (indexSize == 1) indexBytes[i] = (byte)entry.IndexMap[i];
            else BinaryPrimitives.WriteUInt16LittleEndian(indexBytes[(2 * i)..], entry.IndexMap[i]);
        }
        if (entry.Tokens is not null) WriteFloats(payload[(int)tensors[2].Offset..], entry.Tokens, entry.Precision);
        SHA256.HashData(file.AsSpan(0, file.Length - TrailerLength), file.AsSpan(file.Length - TrailerLength));
        return file;
    }

    /// <summary>Checks the checksum first, then the header: any damage gives
    /// <see cref="CacheLookupStatus.Corrupt"/> with the reason, never an exception or wrong data.</summary>
    public static CacheLookup Read(ReadOnlySpan<byte> file)
    {
        if (file.Length < PrefixLength + TrailerLength) return CacheLookup.Corrupt($"entry is truncated ({file.Length} bytes)");
        if (!file[..8].SequenceEqual(Magic)) return CacheLookup.Corrupt("entry does not start with VQTCACHE");
        Span<byte> actual = stackalloc byte[TrailerLength];
        SHA256.HashData(file[..^TrailerLength], actual);
        if (!actual.SequenceEqual(file[^TrailerLength..])) return CacheLookup.Corrupt("entry checksum mismatch (SHA-256 over header and payload)");
        ushort version = BinaryPrimitives.ReadUInt16LittleEndian(file[8..]);
        if (version != Version) return CacheLookup.Corrupt($"entry format version {version} is not supported (this build reads {Version})");
        uint headerLength = BinaryPrimitives.ReadUInt32LittleEndian(file[12..]);
        if (headerLength > MaxHeaderLength || PrefixLength + headerLength > file.Length - TrailerLength)
            return CacheLookup.Corrupt($"entry header length {headerLength} is out of range");
        var payload = file[(PrefixLength + (int)headerLength)..^TrailerLength];
        try
        {
            var header = JsonSerializer.Deserialize(file.Slice(PrefixLength, (int)headerLength), StorageJsonContext.Default.CompressedEntryHeader)
                ?? throw new InvalidDataException("entry header is null");
            var entry = Decode(header, payload);
            return entry.Validate() is { } problem ? CacheLookup.Corrupt($"entry is inconsistent: {problem}") : CacheLookup.Hit(entry);
        }
        catch (Exception e) when (e is JsonException or InvalidDataException or ArgumentException or OverflowException)
        {
            return CacheLookup.Corrupt($"entry header is invalid: {e.Message}");
        }
    }

    private static CompressedVideoEntry Decode(CompressedEntryHeader header, ReadOnlySpan<byte> payload)
    {
        var byName = header.Tensors.ToDictionary(t => t.Name);
        long payloadLength = payload.Length;
        var codebook = Array("codebook", 2);
        var indexMap = Array("index_map", 3);
        byName.TryGetValue("tokens", out var tokens);
        if (tokens is not null) Check(tokens, 2);
        var precision = codebook.DType == "f16" ? FloatPrecision.Float16 : FloatPrecision.Float32;
        return new CompressedVideoEntry
        {
            ModelFingerprint = header.ModelFingerprint,
            Settings = header.Settings,
            CreatedAt = header.CreatedAt,
            Precision = precision,
            Dim = checked((int)codebook.Shape[1]),
            Codebook = ReadFloats(payload, codebook),
            Frames = checked((int)indexMap.Shape[0]),
            GridHeight = checked((int)indexMap.Shape[1]),
            GridWidth = checked((int)indexMap.Shape[2]),
            IndexMap = ReadIndices(payload, indexMap),
            Tokens = tokens is null ? null : ReadFloats(payload, tokens),
        };

        CompressedEntryTensor Array(string name, int rank) =>
            byName.TryGetValue(name, out var t) ? Check(t, rank) : throw new InvalidDataException($"no '{name}' array");

        CompressedEntryTensor Check(CompressedEntryTensor t, int rank)
        {
            long elementSize = t.DType switch { "f16" or "u16" => 2, "f32" => 4, "u8" => 1, _ => throw new InvalidDataException($"'{t.Name}' has unknown dtype {t.DType}") };
            if (t.Shape.Length != rank || t.Shape.Any(d => d < 0)) throw new InvalidDataException($"'{t.Name}' has shape [{string.Join(",", t.Shape)}], expected rank {rank}");
            long elements = t.Shape.Aggregate(1L, (a, b) => checked(a * b));
            if (t.Length != elements * elementSize || t.Offset < 0 || t.Offset + t.Length > payloadLength)
                throw new InvalidDataException($"'{t.Name}' byte range [{t.Offset}, +{t.Length}) does not fit its shape or the payload");
            return t;
        }
    }

    private static void WriteFloats(Span<byte> target, float[] values, FloatPrecision precision)
    {
        for (int i = 0; i < values.Length; i++)
        {
            if (precision == FloatPrecision.Float16) BinaryPrimitives.WriteHalfLittleEndian(target[(2 * i)..], (Half)values[i]);
            else BinaryPrimitives.WriteSingleLittleEndian(target[(4 * i)..], values[i]);
        }
    }

    private static float[] ReadFloats(ReadOnlySpan<byte> payload, CompressedEntryTensor t)
    {
        var bytes = payload.Slice((int)t.Offset, (int)t.Length);
        var values = new float[t.DType == "f16" ? bytes.Length / 2 : bytes.Length / 4];
        for (int i = 0; i < values.Length; i++)
            values[i] = t.DType == "f16" ? (float)BinaryPrimitives.ReadHalfLittleEndian(bytes[(2 * i)..]) : BinaryPrimitives.ReadSingleLittleEndian(bytes[(4 * i)..]);
        return values;
    }

    private static ushort[] ReadIndices(ReadOnlySpan<byte> payload, CompressedEntryTensor t)
    {
        var bytes = payload.Slice((int)t.Offset, (int)t.Length);
        if (t.DType == "u8") return bytes.ToArray().Select(b => (ushort)b).ToArray();
        if (t.DType != "u16") throw new InvalidDataException($"index map dtype {t.DType} is not u8 or u16");
        var values = new ushort[bytes.Length / 2];
        for (int i = 0; i < values.Length; i++) values[i] = BinaryPrimitives.ReadUInt16LittleEndian(bytes[(2 * i)..]);
        return values;
    }
}
