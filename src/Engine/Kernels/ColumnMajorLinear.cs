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

    /// <summary>A bf16-resident layer over given storage (rows of a <see cref="Stacked"/> allocation).</summary>
    private ColumnMajorLinear(Tensor weight, Tensor? bias) : base(nameof(ColumnMajorLinear))
    {
        this.weight = new Parameter(weight, requires_grad: false);
        if (bias is not null) this.bias = new Parameter(bias, requires_grad: false);
        (_inputs, _outputs) = (checked((int)this.weight.shape[1]), checked((int)this.weight.shape[0]));   // the Parameter took the view's handle
        RegisterComponents();
    }

    /// <summary>Layers reading the same input, one per entry of <paramref name="outFeatures"/>. Held in bf16, their
    /// weights (and biases) are consecutive rows of one allocation, so a one-row step runs them as one kernel call
    /// (<see cref="ForwardRows"/>): one pass over the rows instead of several short ones, each paying the kernel's start and finish.</summary>
    public static ColumnMajorLinear[] Stacked(long inFeatures, long[] outFeatures, bool hasBias, ScalarType dtype, Device device, ScalarType? weightDType)
    {
        if (weightDType != ScalarType.BFloat16 || dtype != ScalarType.Float32)
            return [.. outFeatures.Select(o => new ColumnMajorLinear(inFeatures, o, hasBias, dtype, device, weightDType))];
        long total = outFeatures.Sum(), at = 0;
        using var weights = empty([total, inFeatures], ScalarType.BFloat16, device);   // its rows outlive this handle in the layers' views
        using var biases = hasBias ? empty([total], dtype, device) : null;
        var layers = new ColumnMajorLinear[outFeatures.Length];
        for (int i = 0; i < layers.Length; at += outFeatures[i], i++)
            layers[i] = new ColumnMajorLinear(weights.narrow(0, at, outFeatures[i]), biases?.narrow(0, at, outFeatures[i]));
        return layers;
    }

    public override Tensor forward(Tensor x) => Apply(x, weight, bias);

    /// <summary>Whether <see cref="ForwardRow"/> takes this layer: a bf16-resident weight under float32 compute on the CPU.</summary>
    internal bool TakesRow => weight.device_type == DeviceType.CPU && IsBf16Resident(weight, ScalarType.Float32) && weight.is_contiguous()
                              && (bias is null || bias.dtype == ScalarType.Float32);

    /// <summary>One row on raw float32 memory (the fused decode step, <see cref="TakesRow"/>): y[out] = x[in]·Wᵀ (+ b).</summary>
    internal unsafe void ForwardRow(float* x, float* y) => ForwardRows([this], x, y);

    /// <summary>Whether <paramref name="layers"/> take one-row steps over the same input and lie back to back in
    /// memory, weights and biases, as <see cref="Stacked"/> allocates them.</summary>
    internal static unsafe bool Adjacent(IReadOnlyList<ColumnMajorLinear> layers)
    {
        var first = layers[0];
        if (!layers.All(l => l.TakesRow && l._inputs == first._inputs && (l.bias is null) == (first.bias is null))) return false;
        for (int i = 1; i < layers.Count; i++)
        {
            var (before, next) = (layers[i - 1], layers[i]);
            if ((byte*)SkinnyLinear.Pointer(next.weight) != (byte*)SkinnyLinear.Pointer(before.weight) + (long)before._outputs * before._inputs * sizeof(ushort)
                || (before.bias is not null && SkinnyLinear.Pointer(next.bias!) != SkinnyLinear.Pointer(before.bias) + before._outputs))
                return false;
        }
        return true;
    }

    /// <summary>One row through <see cref="Adjacent"/> layers (or one layer) as one kernel call: y holds their outputs
    /// one after another.</summary>
    internal static unsafe void ForwardRows(IReadOnlyList<ColumnMajorLinear> layers, float* x, float* y)
    {
        var first = layers[0];
        int outputs = 0;
        foreach (var layer in layers) outputs += layer._outputs;
        Bf16Linear.Row(x, (ushort*)SkinnyLinear.Pointer(first.weight), first.bias is null ? null : SkinnyLinear.Pointer(first.bias), y, first._inputs, outputs);
        GC.KeepAlive(layers);   // and so their weights, read through raw pointers
    }

    /// <summary>x [.., in] through each layer: for <see cref="Adjacent"/> layers as one linear (one pass of the kernel
    /// over x instead of one per layer), the outputs then being column slices of one [.., Σ out] tensor.</summary>
    internal static Tensor[] ForwardStacked(IReadOnlyList<ColumnMajorLinear> layers, Tensor x)
    {
        if (!Adjacent(layers)) return [.. layers.Select(l => l.forward(x))];
        var first = layers[0];
        int outputs = layers.Sum(l => l._outputs);
        using var weight = first.weight.as_strided([outputs, first._inputs], [first._inputs, 1], first.weight.storage_offset());
        using var bias = first.bias?.as_strided([outputs], [1], first.bias.storage_offset());
        using var all = Bf16Linear.Forward(x, weight, bias);
        var parts = new Tensor[layers.Count];
        for (int i = 0, at = 0; i < parts.Length; at += layers[i]._outputs, i++) parts[i] = all.narrow(-1, at, layers[i]._outputs);
        return parts;
    }

    /// <summary>One row on raw memory through a bf16-resident weight [out, in] held outside a module (the tied
    /// <c>lm_head</c>): y[out] = x[in]·Wᵀ.</summary>
    internal static unsafe void ApplyRow(Tensor weight, float* x, float* y)
    {
        Bf16Linear.Row(x, (ushort*)SkinnyLinear.Pointer(weight), null, y, (int)weight.shape[1], (int)weight.shape[0]);
        GC.KeepAlive(weight);
    }

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
