using System.Buffers.Binary;
using System.Runtime.InteropServices;
using System.Text.Json;
using TorchSharp;
using static TorchSharp.torch;

namespace VQToken.Engine.Tests.Compression;

/// <summary>Locates the shared parity fixtures (../shared/fixtures next to the checkout) and reads their
/// tensors. The reader is TEMPORARY (F32 and I64 only) until Engine/Checkpoints/SafeTensors.cs lands.</summary>
internal static class Fixtures
{
    /// <summary>The fixture folder, e.g. "parity-a": walks up from the test assembly to the folder
    /// holding VQToken.Service.sln, then ../shared/fixtures. Fails (never skips) when absent.</summary>
    public static string Folder(string name)
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "VQToken.Service.sln"))) dir = dir.Parent;
        if (dir?.Parent is null) throw new DirectoryNotFoundException("no VQToken.Service.sln above the test assembly");
        var folder = Path.Combine(dir.Parent.FullName, "shared", "fixtures", name);
        if (!Directory.Exists(folder)) throw new DirectoryNotFoundException($"fixture folder missing: {folder} (CI puts shared/ next to the checkout)");
        return folder;
    }

    /// <summary>Reads one F32 or I64 tensor of a fixture file (e.g. "inputs", "labels").</summary>
    public static Tensor Read(string fixture, string file, string name)
    {
        var bytes = File.ReadAllBytes(Path.Combine(Folder(fixture), file + ".safetensors"));
        long headerLength = BinaryPrimitives.ReadInt64LittleEndian(bytes);
        using var header = JsonDocument.Parse(bytes.AsMemory(8, (int)headerLength));
        var entry = header.RootElement.GetProperty(name);
        var shape = entry.GetProperty("shape").EnumerateArray().Select(e => e.GetInt64()).ToArray();
        var offsets = entry.GetProperty("data_offsets").EnumerateArray().Select(e => e.GetInt64()).ToArray();
        var data = bytes.AsSpan((int)(8 + headerLength + offsets[0]), (int)(offsets[1] - offsets[0]));
        return entry.GetProperty("dtype").GetString() switch
        {
            "F32" => tensor(MemoryMarshal.Cast<byte, float>(data).ToArray(), shape, ScalarType.Float32),
            "I64" => tensor(MemoryMarshal.Cast<byte, long>(data).ToArray(), shape, ScalarType.Int64),
            var other => throw new NotSupportedException($"dtype {other}"),
        };
    }
}
