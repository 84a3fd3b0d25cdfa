using static TorchSharp.torch;

namespace VQToken.Engine.Models;

/// <summary>Rotary position embeddings, rotate-half convention (as Hugging Face Qwen2):
/// inv_freq[i] = theta^(-2i/d); angles = position ⊗ inv_freq, duplicated to d; computed in float32.</summary>
internal sealed class RotaryEmbedding(int headDim, double theta)
{
    /// <summary>cos, sin [n, headDim] for positions start..start+n-1.</summary>
    public (Tensor Cos, Tensor Sin) CosSin(long start, long n, ScalarType dtype, Device device)
    {
        using var scope = NewDisposeScope();
        var exponent = arange(0, headDim, 2, ScalarType.Float64, device) / headDim;
        var invFreq = pow(theta, exponent).reciprocal().to_type(ScalarType.Float32);   // [d/2]
        var positions = arange(start, start + n, dtype: ScalarType.Float32, device: device);
        var angles = outer(positions, invFreq);                                            // [n, d/2]
        var emb = cat([angles, angles], -1);                                               // [n, d]
        return (emb.cos().to_type(dtype).MoveToOuterDisposeScope(), emb.sin().to_type(dtype).MoveToOuterDisposeScope());
    }

    private float[]? _inverseFrequencies;

    /// <summary>cos and sin [headDim] of one position into raw memory (the fused decode step), computed as
    /// <see cref="CosSin"/> computes them: the same float32 angles, cos and sin each within an ulp of libtorch's.</summary>
    public unsafe void CosSinRow(long position, float* cos, float* sin)
    {
        var inverse = _inverseFrequencies ??= InverseFrequencies();
        int half = headDim / 2;
        float at = position;
        for (int i = 0; i < half; i++)
        {
            float angle = at * inverse[i];
            cos[i] = cos[half + i] = MathF.Cos(angle);
            sin[i] = sin[half + i] = MathF.Sin(angle);
        }
    }

    /// <summary>theta^(−2i/d) for i &lt; d/2, in float64 then rounded to float32, as <see cref="CosSin"/> has them.</summary>
    private float[] InverseFrequencies()
    {
        using var scope = NewDisposeScope();
        var exponent = arange(0, headDim, 2, ScalarType.Float64) / headDim;
        return pow(theta, exponent).reciprocal().to_type(ScalarType.Float32).data<float>().ToArray();
    }

    /// <summary>x [B, H, n, d] rotated by cos/sin [n, d].</summary>
    public static Tensor Apply(Tensor x, Tensor cos, Tensor sin)
    {
        using var scope = NewDisposeScope();
        long half = x.shape[^1] / 2;
        var rotated = cat([-x.narrow(-1, half, half), x.narrow(-1, 0, half)], -1);
        return (x * cos + rotated * sin).MoveToOuterDisposeScope();
    }
}
