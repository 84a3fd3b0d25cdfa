using TorchSharp;
using static TorchSharp.torch;

namespace VQToken.Engine.Checkpoints;

/// <summary>Loads a module's parameters from a checkpoint by name: the module's parameter
/// <c>x.y</c> comes from checkpoint key <c>{prefix}x.y</c>. Every parameter must be present with the
/// same shape (strict); tensors the module has no place for are simply not read.</summary>
public static class WeightLoader
{
    /// <summary>Each tensor is read in its parameter's dtype (<paramref name="dtype"/> is the model's compute
    /// dtype; bf16-resident parameters are read as stored), one tensor at a time.</summary>
    public static void Load(nn.Module module, CheckpointReader checkpoint, string prefix, ScalarType dtype, Device device)
    {
        using var noGrad = no_grad();
        foreach (var (name, param) in module.named_parameters())
        {
            var key = prefix + name;
            var expected = param.shape;
            if (!checkpoint.Contains(key))
                throw new InvalidDataException($"checkpoint is missing tensor '{key}' (expected shape {Shape(expected)})");
            var actual = checkpoint.Info(key).Shape;
            if (!actual.SequenceEqual(expected))
                throw new InvalidDataException($"tensor '{key}' has shape {Shape(actual)}, expected {Shape(expected)}");
            LoadInto(checkpoint, key, param);
        }
    }

    /// <summary>Fills <paramref name="target"/> (shape already checked) from the checkpoint: read in place when
    /// it is held as stored (a bf16-resident weight), else converted to its dtype, device and layout.</summary>
    public static void LoadInto(CheckpointReader checkpoint, string key, Tensor target)
    {
        if (checkpoint.TryLoadInto(key, target)) return;
        using var loaded = checkpoint.Load(key, target.dtype, target.device);
        target.copy_(loaded);
    }

    /// <summary>Loads one named tensor with a shape check (for parameters held outside modules).</summary>
    public static Tensor LoadTensor(CheckpointReader checkpoint, string key, long[] expected, ScalarType dtype, Device device)
    {
        if (!checkpoint.Contains(key))
            throw new InvalidDataException($"checkpoint is missing tensor '{key}' (expected shape {Shape(expected)})");
        var actual = checkpoint.Info(key).Shape;
        if (!actual.SequenceEqual(expected))
            throw new InvalidDataException($"tensor '{key}' has shape {Shape(actual)}, expected {Shape(expected)}");
        return checkpoint.Load(key, dtype, device);
    }

    /// <summary>Shape of a checkpoint tensor, or a clear error naming the missing key.</summary>
    public static long[] ShapeOf(CheckpointReader checkpoint, string key, string why) =>
        checkpoint.Contains(key) ? checkpoint.Info(key).Shape
            : throw new InvalidDataException($"checkpoint is missing tensor '{key}' ({why})");

    internal static string Shape(IEnumerable<long> s) => "[" + string.Join(", ", s) + "]";
}
