using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Nodes;
using VQToken.Api.Cache;
using VQToken.Api.Storage;

namespace VQToken.Api.Tests.Storage;

/// <summary>Writes an entry as the previous cache format (version 1) did: "VQTCACHE" | version u16 | reserved u16
/// | header length u32 | JSON header | float32 codebook, uint8/uint16 index map | SHA-256 of all before it.</summary>
public static class PreviousCacheFormat
{
    public static byte[] Write(CacheEntry entry)
    {
        var c = entry.Encoding.Compressed ?? throw new ArgumentException("a vqtoken entry is needed", nameof(entry));
        bool narrow = c.K <= 256;
        var payload = new MemoryStream();
        foreach (var v in c.CodebookValues.ToArray()) payload.Write(BitConverter.GetBytes(v));
        foreach (var id in c.IndexMapValues.ToArray())
            if (narrow) payload.WriteByte((byte)id); else payload.Write(BitConverter.GetBytes((ushort)id));
        long codebookBytes = (long)c.K * c.Dim * 4;
        var header = new JsonObject
        {
            ["modelFingerprint"] = entry.ModelFingerprint,
            ["settings"] = JsonNode.Parse(JsonSerializer.Serialize(entry.Settings, StorageJsonContext.Default.CompressionSettings)),
            ["createdAt"] = entry.CreatedAt,
            ["tensors"] = new JsonArray(
                new JsonObject { ["name"] = "codebook", ["dType"] = "f32", ["shape"] = new JsonArray(c.K, c.Dim), ["offset"] = 0, ["length"] = codebookBytes },
                new JsonObject { ["name"] = "index_map", ["dType"] = narrow ? "u8" : "u16", ["shape"] = new JsonArray(c.Frames, c.Grid, c.Grid),
                    ["offset"] = codebookBytes, ["length"] = payload.Length - codebookBytes }),
        };
        var headerBytes = JsonSerializer.SerializeToUtf8Bytes(header);
        var file = new byte[16 + headerBytes.Length + payload.Length + 32];
        "VQTCACHE"u8.CopyTo(file);
        BinaryPrimitives.WriteUInt16LittleEndian(file.AsSpan(8), 1);
        BinaryPrimitives.WriteUInt32LittleEndian(file.AsSpan(12), (uint)headerBytes.Length);
        headerBytes.CopyTo(file, 16);
        payload.ToArray().CopyTo(file, 16 + headerBytes.Length);
        SHA256.HashData(file.AsSpan(0, file.Length - 32), file.AsSpan(file.Length - 32));
        return file;
    }
}
