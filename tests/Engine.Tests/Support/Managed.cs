using TorchSharp;
using static TorchSharp.torch;

namespace VQToken.Engine.Tests.Support;

/// <summary>Small bridges between managed arrays and tensors for the tests.</summary>
internal static class Managed
{
    /// <summary>Uniform values in center ± spread from a seeded generator.</summary>
    public static float[] Uniform(Random random, int count, float center = 0, float spread = 1) =>
        Enumerable.Range(0, count).Select(_ => center + spread * (float)(2 * random.NextDouble() - 1)).ToArray();

    /// <summary>Overwrites every parameter of <paramref name="module"/> with seeded uniform values and
    /// returns them by parameter name (row-major).</summary>
    public static Dictionary<string, float[]> Randomize(nn.Module module, int seed, float spread = 0.4f)
    {
        var random = new Random(seed);
        var values = new Dictionary<string, float[]>(StringComparer.Ordinal);
        using var noGrad = no_grad();
        foreach (var (name, param) in module.named_parameters())
        {
            var data = Uniform(random, (int)param.NumberOfElements, name.Contains("norm") ? 1 : 0, spread);
            using var source = tensor(data, param.shape);
            param.copy_(source);
            values[name] = data;
        }
        return values;
    }

    /// <summary>Rows of a [1, L, D] or [L, D] float tensor as double arrays.</summary>
    public static double[][] Rows(Tensor t)
    {
        using var flat = t.detach().to_type(ScalarType.Float64).contiguous().reshape(-1, t.shape[^1]);
        var data = flat.data<double>().ToArray();
        int d = (int)t.shape[^1];
        return Enumerable.Range(0, data.Length / d).Select(r => data.AsSpan(r * d, d).ToArray()).ToArray();
    }

    /// <summary>[L][D] double rows → a float32 tensor [1, L, D].</summary>
    public static Tensor Batch(double[][] rows) =>
        tensor(rows.SelectMany(r => r).Select(v => (float)v).ToArray(), [1, rows.Length, rows[0].Length]);

    public static double MaxAbsDiff(double[][] a, double[][] b)
    {
        Assert.Equal(a.Length, b.Length);
        double max = 0;
        for (int i = 0; i < a.Length; i++)
        {
            Assert.Equal(a[i].Length, b[i].Length);
            for (int j = 0; j < a[i].Length; j++) max = Math.Max(max, Math.Abs(a[i][j] - b[i][j]));
        }
        return max;
    }

    /// <summary>Same dtype, shape and every element bit-equal in value.</summary>
    public static bool Identical(Tensor a, Tensor b)
    {
        if (a.dtype != b.dtype || !a.shape.SequenceEqual(b.shape)) return false;
        using var same = a.eq(b).all();
        return same.item<bool>();
    }

    public static double MaxAbsDiff(Tensor a, Tensor b)
    {
        Assert.Equal(a.shape, b.shape);
        using var diff = (a.to_type(ScalarType.Float64) - b.to_type(ScalarType.Float64)).abs().max();
        return diff.item<double>();
    }
}
