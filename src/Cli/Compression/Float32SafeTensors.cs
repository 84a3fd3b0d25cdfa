using System.Buffers.Binary;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;
using TorchSharp;
using static TorchSharp.torch;

namespace VQToken.Cli.Compression;

/// <summary>
/// TEMPORARY, private to the compression commands: a minimal float32-only safetensors reader/writer,
/// until the shared reader in Engine/Checkpoints/SafeTensors.cs lands; then switch to that one and
/// delete this file.
/// </summary>
internal static class Float32SafeTensors
{
    /// <summary>Reads one F32 tensor by name as a new float32 tensor.</summary>
    public static Tensor Read(string path, string name)
    {
        var bytes = File.ReadAllBytes(path);
        if (bytes.Length < 8) throw new InvalidDataException($"{path}: too short for safetensors");
        long headerLength = BinaryPrimitives.ReadInt64LittleEndian(bytes);
        if (headerLength <= 0 || 8 + headerLength > bytes.Length) throw new InvalidDataException($"{path}: bad header length");
        using var header = JsonDocument.Parse(bytes.AsMemory(8, (int)headerLength));
        if (!header.RootElement.TryGetProperty(name, out var entry))
            throw new InvalidDataException($"{path}: no tensor '{name}'");
        var dtype = entry.GetProperty("dtype").GetString();
        if (dtype != "F32") throw new InvalidDataException($"{path}: tensor '{name}' is {dtype}, only F32 is supported here");
        var shape = entry.GetProperty("shape").EnumerateArray().Select(e => e.GetInt64()).ToArray();
        var offsets = entry.GetProperty("data_offsets").EnumerateArray().Select(e => e.GetInt64()).ToArray();
        long start = 8 + headerLength + offsets[0], length = offsets[1] - offsets[0];
        if (length != shape.Aggregate(1L, (a, b) => a * b) * 4 || start + length > bytes.Length)
            throw new InvalidDataException($"{path}: tensor '{name}' has inconsistent offsets");
        var values = MemoryMarshal.Cast<byte, float>(bytes.AsSpan((int)start, (int)length)).ToArray();
        return tensor(values, shape, ScalarType.Float32);
    }

    /// <summary>Writes float32 tensors (converted if needed) to a safetensors file.</summary>
    public static void Write(string path, IReadOnlyDictionary<string, Tensor> tensors)
    {
        var entries = new Dictionary<string, object>();
        var payloads = new List<byte[]>();
        long offset = 0;
        foreach (var (name, t) in tensors)
        {
            using var scope = NewDisposeScope();
            var values = t.to(ScalarType.Float32).cpu().contiguous().data<float>().ToArray();
            var payload = MemoryMarshal.AsBytes(values.AsSpan()).ToArray();
            entries[name] = new { dtype = "F32", shape = t.shape, data_offsets = new[] { offset, offset + payload.Length } };
            payloads.Add(payload);
            offset += payload.Length;
        }
        var json = Encoding.UTF8.GetBytes(JsonSerializer.Serialize(entries));
        int padded = (json.Length + 7) / 8 * 8; // align the data section to 8 bytes, padding with spaces
        using var file = File.Create(path);
        Span<byte> length = stackalloc byte[8];
        BinaryPrimitives.WriteInt64LittleEndian(length, padded);
        file.Write(length);
        file.Write(json);
        for (int i = json.Length; i < padded; i++) file.WriteByte((byte)' ');
        foreach (var p in payloads) file.Write(p);
    }
}
