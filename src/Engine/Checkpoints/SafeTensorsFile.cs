using Microsoft.Win32.SafeHandles;
using System.Text.Json;
using TorchSharp;
using static TorchSharp.torch;

namespace VQToken.Engine.Checkpoints;

/// <summary>One tensor's entry in a safetensors header.</summary>
public sealed record SafeTensorInfo(string Name, string DType, long[] Shape, long Begin, long End)
{
    public long ByteLength => End - Begin;
}

/// <summary>Reads one .safetensors file with positioned reads: the header is parsed once, each tensor
/// is read straight from the file into native tensor memory (never through managed arrays). Not a
/// memory map on purpose: mapped pages count in the process's resident set until unmapped, which put
/// the whole checkpoint on top of the loaded weights at peak.
/// Format: u64 little-endian header length, a JSON header {name: {dtype, shape, data_offsets}}, data.</summary>
public sealed class SafeTensorsFile : IDisposable
{
    private const long MaxHeaderBytes = 100L << 20;
    private readonly SafeFileHandle _file;
    private readonly long _dataStart;

    public string Path { get; }
    public IReadOnlyDictionary<string, SafeTensorInfo> Tensors { get; }
    public IReadOnlyDictionary<string, string> Metadata { get; }

    public SafeTensorsFile(string path)
    {
        Path = path;
        long fileLength = new FileInfo(path).Length;
        if (fileLength < 8) throw new InvalidDataException($"{path}: not a safetensors file (only {fileLength} bytes)");
        _file = File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.Read, FileOptions.RandomAccess);
        try
        {
            Span<byte> lengthBytes = stackalloc byte[8];
            ReadExactly(lengthBytes, 0);
            long headerLength = BitConverter.ToInt64(lengthBytes);
            if (headerLength <= 0 || headerLength > MaxHeaderBytes || 8 + headerLength > fileLength)
                throw new InvalidDataException($"{path}: invalid safetensors header length {headerLength}");
            var headerBytes = new byte[headerLength];
            ReadExactly(headerBytes, 8);
            _dataStart = 8 + headerLength;
            (Tensors, Metadata) = ParseHeader(path, headerBytes, fileLength - _dataStart);
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    internal static (Dictionary<string, SafeTensorInfo>, Dictionary<string, string>) ParseHeader(string path, byte[] header, long dataLength)
    {
        try
        {
            return ParseEntries(path, header, dataLength);
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException or KeyNotFoundException or FormatException or OverflowException or NotSupportedException)
        {
            // Malformed JSON or entries of the wrong kind: report them as the corrupt file they are.
            throw new InvalidDataException($"{path}: malformed safetensors header: {e.Message}", e);
        }
    }

    private static (Dictionary<string, SafeTensorInfo>, Dictionary<string, string>) ParseEntries(string path, byte[] header, long dataLength)
    {
        var tensors = new Dictionary<string, SafeTensorInfo>(StringComparer.Ordinal);
        var metadata = new Dictionary<string, string>(StringComparer.Ordinal);
        using var doc = JsonDocument.Parse(header);
        if (doc.RootElement.ValueKind != JsonValueKind.Object)
            throw new InvalidDataException($"{path}: safetensors header is not a JSON object");
        foreach (var prop in doc.RootElement.EnumerateObject())
        {
            if (prop.Name == "__metadata__")
            {
                foreach (var m in prop.Value.EnumerateObject()) metadata[m.Name] = m.Value.GetString() ?? "";
                continue;
            }
            var dtype = prop.Value.GetProperty("dtype").GetString() ?? "";
            var shape = prop.Value.GetProperty("shape").EnumerateArray().Select(e => e.GetInt64()).ToArray();
            var offsets = prop.Value.GetProperty("data_offsets").EnumerateArray().Select(e => e.GetInt64()).ToArray();
            if (offsets.Length != 2 || shape.Any(d => d < 0))
                throw new InvalidDataException($"{path}: tensor '{prop.Name}' has invalid offsets [{string.Join(",", offsets)}] or shape {FormatShape(shape)}");
            var info = new SafeTensorInfo(prop.Name, dtype, shape, offsets[0], offsets[1]);
            long expected = checked(shape.Aggregate(1L, (a, b) => a * b) * SafeTensorsDType.ElementSize(dtype));
            if (info.Begin < 0 || info.End > dataLength || info.ByteLength != expected)
                throw new InvalidDataException($"{path}: tensor '{prop.Name}' has inconsistent offsets [{string.Join(",", offsets)}] for {dtype}{FormatShape(shape)}");
            tensors[prop.Name] = info;
        }
        return (tensors, metadata);
    }

    /// <summary>Copies a tensor into a new CPU tensor of its stored dtype.</summary>
    public Tensor Read(string name)
    {
        if (!Tensors.TryGetValue(name, out var info)) throw new KeyNotFoundException($"{Path}: no tensor '{name}'");
        var tensor = empty(info.Shape, SafeTensorsDType.ToScalarType(info.DType));
        if (info.ByteLength == 0) return tensor;
        ReadExactly(tensor.bytes[..checked((int)info.ByteLength)], _dataStart + info.Begin);
        return tensor;
    }

    /// <summary>Reads a tensor straight into <paramref name="target"/>'s memory (a contiguous CPU tensor of
    /// the stored dtype and shape): loading then holds no second copy of it.</summary>
    public void ReadInto(string name, Tensor target)
    {
        if (!Tensors.TryGetValue(name, out var info)) throw new KeyNotFoundException($"{Path}: no tensor '{name}'");
        if (target.device_type != DeviceType.CPU || !target.is_contiguous() || target.dtype != SafeTensorsDType.ToScalarType(info.DType)
            || !target.shape.SequenceEqual(info.Shape))
            throw new ArgumentException($"{Path}: '{name}' ({info.DType}{FormatShape(info.Shape)}) cannot be read into a {target.dtype}{FormatShape(target.shape)} tensor");
        if (info.ByteLength == 0) return;
        ReadExactly(target.bytes[..checked((int)info.ByteLength)], _dataStart + info.Begin);
    }

    private void ReadExactly(Span<byte> into, long offset)
    {
        while (into.Length > 0)
        {
            int read = RandomAccess.Read(_file, into, offset);
            if (read == 0) throw new InvalidDataException($"{Path}: file ends before offset {offset + into.Length}");
            into = into[read..];
            offset += read;
        }
    }

    internal static string FormatShape(IEnumerable<long> shape) => "[" + string.Join(", ", shape) + "]";

    public void Dispose()
    {
        _file?.Dispose();
    }
}

/// <summary>Maps safetensors dtype names to TorchSharp scalar types.</summary>
public static class SafeTensorsDType
{
    public static ScalarType ToScalarType(string dtype) => dtype switch
    {
        "F32" => ScalarType.Float32,
        "F16" => ScalarType.Float16,
        "BF16" => ScalarType.BFloat16,
        "F64" => ScalarType.Float64,
        "I64" => ScalarType.Int64,
        "I32" => ScalarType.Int32,
        "I16" => ScalarType.Int16,
        "I8" => ScalarType.Int8,
        "U8" => ScalarType.Byte,
        "BOOL" => ScalarType.Bool,
        _ => throw new NotSupportedException($"safetensors dtype '{dtype}' is not supported"),
    };

    public static string FromScalarType(ScalarType type) => type switch
    {
        ScalarType.Float32 => "F32",
        ScalarType.Float16 => "F16",
        ScalarType.BFloat16 => "BF16",
        ScalarType.Float64 => "F64",
        ScalarType.Int64 => "I64",
        ScalarType.Int32 => "I32",
        ScalarType.Int16 => "I16",
        ScalarType.Int8 => "I8",
        ScalarType.Byte => "U8",
        ScalarType.Bool => "BOOL",
        _ => throw new NotSupportedException($"dtype {type} cannot be written to safetensors"),
    };

    public static int ElementSize(string dtype) => dtype switch
    {
        "F64" or "I64" => 8,
        "F32" or "I32" => 4,
        "F16" or "BF16" or "I16" => 2,
        "I8" or "U8" or "BOOL" => 1,
        _ => throw new NotSupportedException($"safetensors dtype '{dtype}' is not supported"),
    };
}
