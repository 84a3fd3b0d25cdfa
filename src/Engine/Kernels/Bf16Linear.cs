using TorchSharp;
using static TorchSharp.torch;

namespace VQToken.Engine.Kernels;

/// <summary>x·Wᵀ (+ b) in float32 for a bf16-resident weight W [out, in] (row-major, the checkpoint's
/// layout): on CPU, <see cref="Bf16RowsKernel"/> (any rows with AVX-512, 1–16 elsewhere) widens W in
/// registers; otherwise W is widened to float32 in a reused per-thread buffer, a slice of output rows at
/// a time, for libtorch's float32 GEMM. bf16 → float32 is exact, so both give the float32 layer's result
/// up to summation order.</summary>
internal static unsafe class Bf16Linear
{
    /// <summary>Floats of the widening buffer (32 MiB): every decoder and vision linear fits whole, the
    /// tied lm_head is widened in slices, so no float32 copy of the vocabulary table ever exists.</summary>
    internal const long WideElements = 1L << 23;

    [ThreadStatic] private static Tensor? t_wide;
    [ThreadStatic] private static long t_kernelCalls, t_widenedCalls;

    /// <summary>Calls on this thread that ran the bf16 kernel / widened the weight (observability, tests).</summary>
    public static long KernelCallsOnThisThread => t_kernelCalls;
    public static long WidenedCallsOnThisThread => t_widenedCalls;

    public static Tensor Forward(Tensor x, Tensor weight, Tensor? bias)
    {
        long outputs = weight.shape[0], inputs = weight.shape[1];
        long rows = inputs == 0 ? 0 : x.NumberOfElements / inputs;
        bool kernel = Bf16RowsKernel.Takes(rows) && x.device_type == DeviceType.CPU && weight.is_contiguous()
                      && x.dtype == ScalarType.Float32 && (bias is null || bias.dtype == ScalarType.Float32);
        return kernel ? Kernel(x, weight, bias, (int)rows) : Widened(x, weight, bias);
    }

    private static Tensor Kernel(Tensor x, Tensor weight, Tensor? bias, int rows)
    {
        int inputs = (int)weight.shape[1], outputs = (int)weight.shape[0];
        var shape = x.shape.ToArray();
        shape[^1] = outputs;
        var y = empty(shape, ScalarType.Float32, x.device);
        using (var input = x.contiguous())
        using (var b = bias?.contiguous())
        {
            Bf16RowsKernel.Run(SkinnyLinear.Pointer(input), (ushort*)SkinnyLinear.Pointer(weight), b is null ? null : SkinnyLinear.Pointer(b),
                SkinnyLinear.Pointer(y), rows, inputs, outputs, SkinnyLinear.KernelThreads, SkinnyLinear.RunParts);
            GC.KeepAlive(input);   // their native memory was read through raw pointers
            GC.KeepAlive(weight);
            GC.KeepAlive(b);
        }
        t_kernelCalls++;
        return y;
    }

    /// <summary>One row on raw float32 memory (the fused decode step): y[outputs] = x[inputs]·Wᵀ (+ b), W bf16
    /// [outputs, inputs] row-major; the caller keeps W and b alive.</summary>
    internal static void Row(float* x, ushort* weight, float* bias, float* y, int inputs, int outputs)
    {
        Bf16RowsKernel.Run(x, weight, bias, y, 1, inputs, outputs, SkinnyLinear.KernelThreads, SkinnyLinear.RunParts);
        t_kernelCalls++;
    }

    private static Tensor Widened(Tensor x, Tensor weight, Tensor? bias)
    {
        long outputs = weight.shape[0], inputs = weight.shape[1];
        long slice = Math.Max(1, WideElements / Math.Max(1, inputs));
        t_widenedCalls++;
        using var scope = NewDisposeScope();
        if (slice >= outputs) return nn.functional.linear(x, Wide(weight), bias).MoveToOuterDisposeScope();
        var shape = x.shape.ToArray();
        shape[^1] = outputs;
        var y = empty(shape, x.dtype, x.device);
        for (long start = 0; start < outputs; start += slice)
        {
            long length = Math.Min(slice, outputs - start);
            using var part = nn.functional.linear(x, Wide(weight.narrow(0, start, length)), bias?.narrow(0, start, length));
            y.narrow(-1, start, length).copy_(part);
        }
        return y.MoveToOuterDisposeScope();
    }

    /// <summary>The weight (or a slice of its rows) as float32 in this thread's reused buffer.</summary>
    private static Tensor Wide(Tensor weight)
    {
        long count = weight.NumberOfElements;
        if (t_wide is null || t_wide.device_type != weight.device_type || t_wide.NumberOfElements < count)
        {
            t_wide?.Dispose();
            // Lives with the thread, outside every dispose scope (the caller's scope would free it).
            t_wide = empty([Math.Max(count, Math.Min(WideElements, count * 2))], ScalarType.Float32, weight.device).DetachFromDisposeScope();
        }
        return t_wide.narrow(0, 0, count).view(weight.shape).copy_(weight);
    }
}
