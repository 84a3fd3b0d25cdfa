using System.Text;
using System.Text.Json;
using static TorchSharp.torch;

namespace VQToken.Engine.Checkpoints;

/// <summary>Writes tensors to a .safetensors file, streaming tensor by tensor (each is made
/// contiguous on the CPU, written, and released before the next).</summary>
public static class SafeTensorsWriter
{
    /// <summary>Writes <paramref name="tensors"/> (name → tensor, written in the given order) to
    /// <paramref name="path"/> atomically (temp file + rename).</summary>
    public static void Write(string path, IReadOnlyList<KeyValuePair<string, Tensor>> tensors, IReadOnlyDictionary<string, string>? metadata = null) =>
        Write(path, tensors.Select(kv => new TensorSource(kv.Key, kv.Value.dtype, kv.Value.shape, () => kv.Value.alias())).ToList(), metadata);

    /// <summary>Writes tensors produced one at a time by their factories (each is disposed after it
    /// is written), so a multi-GB checkpoint never needs more than one tensor in memory.</summary>
    public static void Write(string path, IReadOnlyList<TensorSource> tensors, IReadOnlyDictionary<string, string>? metadata = null)
    {
        var header = Header(tensors.Select(t => (t.Name, SafeTensorsDType.FromScalarType(t.DType), t.Shape)), metadata);

        var temp = path + ".tmp-" + Guid.NewGuid().ToString("N")[..8];
        try
        {
            using (var file = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 20))
            {
                file.Write(BitConverter.GetBytes((ulong)header.Length));
                file.Write(header);
                foreach (var t in tensors)
                {
                    using var produced = t.Produce();
                    if (produced.dtype != t.DType || !produced.shape.SequenceEqual(t.Shape))
                        throw new InvalidOperationException($"tensor '{t.Name}' was produced as {produced.dtype}{SafeTensorsFile.FormatShape(produced.shape)}, declared {t.DType}{SafeTensorsFile.FormatShape(t.Shape)}");
                    using var cpu = produced.detach().cpu().contiguous();
                    WriteBytes(file, cpu);
                }
                file.Flush(flushToDisk: true);
            }
            File.Move(temp, path, overwrite: true);
        }
        finally
        {
            if (File.Exists(temp)) File.Delete(temp);
        }
    }

    /// <summary>The JSON header (tensors back to back, in order), padded with spaces to a multiple of 8 bytes
    /// as the reference writer does.</summary>
    internal static byte[] Header(IEnumerable<(string Name, string DType, long[] Shape)> tensors, IReadOnlyDictionary<string, string>? metadata)
    {
        using var header = new MemoryStream();
        using (var json = new Utf8JsonWriter(header))
        {
            json.WriteStartObject();
            if (metadata is { Count: > 0 })
            {
                json.WriteStartObject("__metadata__");
                foreach (var (k, v) in metadata) json.WriteString(k, v);
                json.WriteEndObject();
            }
            long offset = 0;
            foreach (var (name, dtype, shape) in tensors)
            {
                long bytes = shape.Aggregate(1L, (a, b) => a * b) * SafeTensorsDType.ElementSize(dtype);
                json.WriteStartObject(name);
                json.WriteString("dtype", dtype);
                json.WriteStartArray("shape");
                foreach (var d in shape) json.WriteNumberValue(d);
                json.WriteEndArray();
                json.WriteStartArray("data_offsets");
                json.WriteNumberValue(offset);
                json.WriteNumberValue(offset + bytes);
                json.WriteEndArray();
                json.WriteEndObject();
                offset += bytes;
            }
            json.WriteEndObject();
        }
        int pad = (int)((8 - header.Length % 8) % 8);
        header.Write(Encoding.ASCII.GetBytes(new string(' ', pad)));
        return header.ToArray();
    }

    private static void WriteBytes(Stream stream, Tensor cpu)
    {
        // Span<byte> over native memory is limited to 2 GiB: write large tensors in row chunks.
        const long chunkBytes = 1L << 30;
        long total = cpu.NumberOfElements * cpu.ElementSize;
        if (total <= chunkBytes || cpu.dim() == 0) { stream.Write(cpu.bytes); return; }
        var flat = cpu.reshape(-1);
        long perChunk = chunkBytes / cpu.ElementSize;
        for (long start = 0; start < flat.shape[0]; start += perChunk)
        {
            using var part = flat.narrow(0, start, Math.Min(perChunk, flat.shape[0] - start));
            stream.Write(part.bytes);
        }
    }
}

/// <summary>A tensor to write: its declared name, dtype and shape, and a factory that makes it.</summary>
public sealed record TensorSource(string Name, ScalarType DType, long[] Shape, Func<Tensor> Produce);
