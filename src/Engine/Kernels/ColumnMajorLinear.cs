using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace VQToken.Engine.Kernels;

/// <summary>A linear layer (checkpoint names <c>weight</c> [out, in] and <c>bias</c>) whose weight is stored
/// column-major (the transpose of a contiguous [in, out] matrix): the CPU GEMM reads it without repacking,
/// and inside a <see cref="SkinnyLinear.Region"/> opened by the model runner a few-row call (a batched
/// decode step) runs the <see cref="SkinnyLinear"/> kernel. A bf16-resident weight is kept row-major as the
/// checkpoint stores it and computed by <see cref="Bf16Linear"/>. Models are built from it and never name the
/// kernels, so a kernel can be replaced or removed here alone.</summary>
internal sealed class ColumnMajorLinear : nn.Module<Tensor, Tensor>
{
    private readonly Parameter weight;
    private readonly Parameter? bias;
    private readonly int _inputs, _outputs;

    /// <param name="dtype">The compute dtype (activations, bias).</param>
    /// <param name="weightDType">bfloat16 holds the weight as the checkpoint stores it (row-major [out, in],
    /// computed by <see cref="Bf16Linear"/> in float32); null holds it in <paramref name="dtype"/>.</param>
    public ColumnMajorLinear(long inFeatures, long outFeatures, bool hasBias, ScalarType dtype, Device device, ScalarType? weightDType = null) : base(nameof(ColumnMajorLinear))
    {
        weight = new Parameter(AllocateWeight(outFeatures, inFeatures, dtype, weightDType, device), requires_grad: false);
        (_inputs, _outputs) = (checked((int)inFeatures), checked((int)outFeatures));
        if (hasBias) bias = new Parameter(empty([outFeatures], dtype, device), requires_grad: false);   // overwritten by loading
        RegisterComponents();
    }

    public override Tensor forward(Tensor x) => Apply(x, weight, bias);

    /// <summary>Whether <see cref="ForwardRow"/> takes this layer: a bf16-resident weight under float32 compute on the CPU.</summary>
    internal bool TakesRow => weight.device_type == DeviceType.CPU && IsBf16Resident(weight, ScalarType.Float32) && weight.is_contiguous()
                              && (bias is null || bias.dtype == ScalarType.Float32);

    /// <summary>One row on raw float32 memory (the fused decode step, <see cref="TakesRow"/>): y[out] = x[in]·Wᵀ (+ b).</summary>
    internal unsafe void ForwardRow(float* x, float* y, int threads) => Bf16Linear.Row(x, weight, bias, y, _inputs, _outputs, threads);

    /// <summary>x·Wᵀ (+ b) for a weight held outside a module (the tied <c>lm_head</c>): column-major in
    /// the compute dtype, or a row-major bf16-resident weight under float32 compute.</summary>
    public static Tensor Apply(Tensor x, Tensor weight, Tensor? bias = null) =>
        IsBf16Resident(weight, x.dtype) ? Bf16Linear.Forward(x, weight, bias)
            : SkinnyLinear.TryForward(x, weight, bias) ?? nn.functional.linear(x, weight, bias);

    /// <summary>Whether <paramref name="weight"/> is held in bf16 for float32 compute.</summary>
    public static bool IsBf16Resident(Tensor weight, ScalarType compute) =>
        weight.dtype == ScalarType.BFloat16 && compute == ScalarType.Float32;

    /// <summary>An uninitialised weight [rows, columns]: row-major bf16 when bf16-resident under float32
    /// compute, else column-major in the compute dtype (<see cref="Allocate"/>).</summary>
    public static Tensor AllocateWeight(long rows, long columns, ScalarType dtype, ScalarType? weightDType, Device device) =>
        weightDType == ScalarType.BFloat16 && dtype == ScalarType.Float32
            ? empty([rows, columns], ScalarType.BFloat16, device)
            : Allocate(rows, columns, dtype, device);

    /// <summary>An uninitialised [rows, columns] tensor stored column-major (a transposed contiguous
    /// [columns, rows] tensor); <c>copy_</c> fills it from a row-major checkpoint tensor.</summary>
    public static Tensor Allocate(long rows, long columns, ScalarType dtype, Device device) =>
        empty([columns, rows], dtype, device).t();
}
