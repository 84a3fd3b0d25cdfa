using System.Text;
using System.Text.Json;

namespace VQToken.Engine.Checkpoints;

/// <summary>One tensor held as its raw little-endian bytes (no TorchSharp), for small files kept in memory or Redis.</summary>
public sealed record RawTensor(string Name, string DType, long[] Shape, ReadOnlyMemory<byte> Data);

/// <summary>The safetensors format over a byte array: the same header as <see cref="SafeTensorsFile"/> and
/// <see cref="SafeTensorsWriter"/>, managed memory only, so stores can use it without touching TorchSharp.</summary>
public static class SafeTensorsBytes
{
    public static byte[] Write(IReadOnlyList<RawTensor> tensors, IReadOnlyDictionary<string, string>? metadata = null)
    {
        var header = SafeTensorsWriter.Header(tensors.Select(t => (t.Name, t.DType, t.Shape)), metadata);
        long dataLength = tensors.Sum(t => (long)t.Data.Length);
        var bytes = new byte[checked(8 + header.Length + dataLength)];
        BitConverter.TryWriteBytes(bytes.AsSpan(0, 8), (ulong)header.Length);
        header.CopyTo(bytes, 8);
        int offset = 8 + header.Length;
        foreach (var t in tensors)
        {
            long expected = t.Shape.Aggregate(1L, (a, b) => a * b) * SafeTensorsDType.ElementSize(t.DType);
            if (t.Data.Length != expected)
                throw new ArgumentException($"tensor '{t.Name}' holds {t.Data.Length} bytes, {t.DType}{SafeTensorsFile.FormatShape(t.Shape)} needs {expected}");
            t.Data.Span.CopyTo(bytes.AsSpan(offset));
            offset += t.Data.Length;
        }
        return bytes;
    }

    /// <summary>Parses <paramref name="bytes"/>; the tensors' data are slices of it (not copies).</summary>
    /// <exception cref="InvalidDataException">Not a complete, consistent safetensors file.</exception>
    public static (IReadOnlyDictionary<string, RawTensor> Tensors, IReadOnlyDictionary<string, string> Metadata) Read(ReadOnlyMemory<byte> bytes)
    {
        if (bytes.Length < 8) throw new InvalidDataException($"not a safetensors file (only {bytes.Length} bytes)");
        long headerLength = BitConverter.ToInt64(bytes.Span[..8]);
        if (headerLength <= 0 || headerLength > bytes.Length - 8)
            throw new InvalidDataException($"invalid safetensors header length {headerLength}");
        var data = bytes[(8 + (int)headerLength)..];
        var (infos, metadata) = SafeTensorsFile.ParseHeader("safetensors bytes", bytes.Span.Slice(8, (int)headerLength).ToArray(), data.Length);
        if (infos.Values.Sum(i => i.ByteLength) != data.Length)
            throw new InvalidDataException("the tensors do not cover the data section exactly");
        var tensors = infos.Values.ToDictionary(i => i.Name,
            i => new RawTensor(i.Name, i.DType, i.Shape, data.Slice((int)i.Begin, (int)i.ByteLength)), StringComparer.Ordinal);
        return (tensors, metadata);
    }
}
