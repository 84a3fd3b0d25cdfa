using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace VQToken.Engine.Kernels;

/// <summary>A linear layer (checkpoint names <c>weight</c> [out, in] and <c>bias</c>) whose weight is stored
/// column-major (the transpose of a contiguous [in, out] matrix): the CPU GEMM reads it without repacking,
/// and inside a <see cref="SkinnyLinear.Region"/> opened by the model runner a few-row call (a batched
/// decode step) runs the <see cref="SkinnyLinear"/> kernel. Models are built from it and never name the
/// kernel, so the kernel can be replaced or removed here alone.</summary>
internal sealed class ColumnMajorLinear : nn.Module<Tensor, Tensor>
{
    private readonly Parameter weight;
    private readonly Parameter? bias;

    public ColumnMajorLinear(long inFeatures, long outFeatures, bool hasBias, ScalarType dtype, Device device) : base(nameof(ColumnMajorLinear))
    {
        weight = new Parameter(Allocate(outFeatures, inFeatures, dtype, device), requires_grad: false);
        if (hasBias) bias = new Parameter(empty([outFeatures], dtype, device), requires_grad: false);   // overwritten by loading
        RegisterComponents();
    }

    public override Tensor forward(Tensor x) => Apply(x, weight, bias);

    /// <summary>x·Wᵀ (+ b) for a column-major W held outside a module (the tied <c>lm_head</c>).</summary>
    public static Tensor Apply(Tensor x, Tensor weight, Tensor? bias = null) =>
        SkinnyLinear.TryForward(x, weight, bias) ?? nn.functional.linear(x, weight, bias);

    /// <summary>An uninitialised [rows, columns] tensor stored column-major (a transposed contiguous
    /// [columns, rows] tensor); <c>copy_</c> fills it from a row-major checkpoint tensor.</summary>
    public static Tensor Allocate(long rows, long columns, ScalarType dtype, Device device) =>
        empty([columns, rows], dtype, device).t();
}
