using TorchSharp;
using VQToken.Engine.Models;
using static TorchSharp.torch;

namespace VQToken.Engine.Runtime;

/// <summary>Turns the configured device and dtype names into TorchSharp values.</summary>
public static class DeviceSelection
{
    public static Device ResolveDevice(string name) => name switch
    {
        "auto" => cuda.is_available() ? CUDA : CPU,
        "cpu" => CPU,
        "cuda" => RequireCuda(CUDA),
        _ when name.StartsWith("cuda:", StringComparison.Ordinal) && int.TryParse(name[5..], out var n) => RequireCuda(torch.device(DeviceType.CUDA, n)),
        _ => throw new ArgumentException($"unknown device '{name}' (auto, cpu, cuda, cuda:N)"),
    };

    /// <summary>float32 on CPU (parity, and fast everywhere), bfloat16 on CUDA, unless configured.</summary>
    public static ScalarType ResolveDType(string name, Device device) => name switch
    {
        "auto" => device.type == DeviceType.CUDA ? ScalarType.BFloat16 : ScalarType.Float32,
        "float32" => ScalarType.Float32,
        "bfloat16" => ScalarType.BFloat16,
        "float16" => ScalarType.Float16,
        _ => throw new ArgumentException($"unknown dtype '{name}' (auto, float32, bfloat16, float16)"),
    };

    public static WeightResidency ResolveResidency(string name) => name switch
    {
        "auto" => WeightResidency.Auto,
        "float32" => WeightResidency.Float32,
        _ => throw new ArgumentException($"unknown weight residency '{name}' (auto, float32)"),
    };

    private static Device RequireCuda(Device device) =>
        cuda.is_available() ? device : throw new ArgumentException("Engine:Device asks for CUDA, but no CUDA device is available (TorchSharp-cuda build and a GPU are needed)");
}
