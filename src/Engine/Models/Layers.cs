using TorchSharp;
using TorchSharp.Modules;
using VQToken.Engine.Kernels;
using static TorchSharp.torch;

namespace VQToken.Engine.Models;

/// <summary>Layer factories that allocate parameters without random initialisation: every weight is
/// overwritten from the checkpoint, so initialising 0.9 B parameters would only cost start-up time.</summary>
internal static class Layers
{
    public static Parameter Param(ScalarType dtype, Device device, params long[] shape) =>
        new(empty(shape, dtype, device), requires_grad: false);

    public static Linear Linear(long inFeatures, long outFeatures, bool bias, ScalarType dtype, Device device) =>
        nn.Linear(Param(dtype, device, outFeatures, inFeatures), bias ? Param(dtype, device, outFeatures) : null);

    /// <summary>A linear layer holding its weight bf16 (as the checkpoint stores it, computed in float32 by
    /// <see cref="ColumnMajorLinear"/>) when <paramref name="weightDType"/> is bfloat16, else <see cref="Linear"/>.</summary>
    public static nn.Module<Tensor, Tensor> HeldLinear(long inFeatures, long outFeatures, bool bias, ScalarType dtype, Device device, ScalarType? weightDType) =>
        weightDType == ScalarType.BFloat16 && dtype == ScalarType.Float32
            ? new ColumnMajorLinear(inFeatures, outFeatures, bias, dtype, device, weightDType)
            : Linear(inFeatures, outFeatures, bias, dtype, device);

    /// <summary><see cref="HeldLinear"/> layers reading one input (one per entry of <paramref name="outFeatures"/>): held in
    /// bf16 they are rows of one allocation (<see cref="ColumnMajorLinear.Stacked"/>, run as one by
    /// <see cref="ColumnMajorLinear.ForwardStacked"/>), else separate <see cref="Linear"/> layers.</summary>
    public static nn.Module<Tensor, Tensor>[] HeldLinears(long inFeatures, long[] outFeatures, bool bias, ScalarType dtype, Device device, ScalarType? weightDType) =>
        weightDType == ScalarType.BFloat16 && dtype == ScalarType.Float32
            ? ColumnMajorLinear.Stacked(inFeatures, outFeatures, bias, dtype, device, weightDType)
            : [.. outFeatures.Select(o => HeldLinear(inFeatures, o, bias, dtype, device, weightDType))];

    public static LayerNorm LayerNorm(long dim, double eps, ScalarType dtype, Device device) =>
        nn.LayerNorm(dim, eps, device: device, dtype: dtype);
}

/// <summary>Root-mean-square norm as in Qwen2: computed in float32, scaled by a learned weight.</summary>
internal sealed class RmsNorm : nn.Module<Tensor, Tensor>
{
    private readonly Parameter weight;
    private readonly double _eps;

    public RmsNorm(long dim, double eps, ScalarType dtype, Device device) : base(nameof(RmsNorm))
    {
        weight = Layers.Param(dtype, device, dim);
        _eps = eps;
        RegisterComponents();
    }

    /// <summary>The learned scale and epsilon (the fused decode step applies them on raw memory).</summary>
    internal Tensor Weight => weight;
    internal float Eps => (float)_eps;

    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        var x32 = x.to_type(ScalarType.Float32);
        var normed = x32 * rsqrt(x32.pow(2).mean([-1L], keepdim: true) + _eps);
        return (weight * normed.to_type(x.dtype)).MoveToOuterDisposeScope();
    }
}

/// <summary>Token embedding table <c>embed_tokens.weight</c> [V, D] (looked up by indexing). Stored
/// column-major like <see cref="ColumnMajorLinear"/>: Qwen2 ties its <c>lm_head</c> to this
/// table, and the lm_head's GEMM for a batch of decode rows is the largest single matmul of a step;
/// a lookup gathers D strided values per token, which costs nothing next to it. bf16-resident, it is the
/// checkpoint's row-major bf16 table (<see cref="ColumnMajorLinear.AllocateWeight"/>).</summary>
internal sealed class TokenEmbedding : nn.Module
{
    public readonly Parameter weight;

    public TokenEmbedding(long vocab, long dim, ScalarType dtype, Device device, ScalarType? weightDType = null) : base(nameof(TokenEmbedding))
    {
        weight = new Parameter(ColumnMajorLinear.AllocateWeight(vocab, dim, dtype, weightDType, device), requires_grad: false);
        RegisterComponents();
    }

    /// <summary>Row <paramref name="token"/> of a bf16-held table widened (exactly) into <paramref name="into"/> [dim]
    /// (the fused decode step; the caller checked the token and the table).</summary>
    public unsafe void WidenRow(long token, float* into, int dim)
    {
        ushort* row = (ushort*)SkinnyLinear.Pointer(weight) + token * dim;
        for (int i = 0; i < dim; i++) into[i] = BitConverter.UInt32BitsToSingle((uint)row[i] << 16);
        GC.KeepAlive(weight);
    }
}
