using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using TorchSharp;
using static TorchSharp.torch;

namespace VQToken.Engine.Kernels;

/// <summary>Element-wise functions over raw float32 memory for the CPU kernels: a fast e^x, softmax numerators and the
/// tanh-GELU split over the kernels' threads (libtorch's GELU and Vector512.Exp were slow here; docs/BENCHMARKS.md).</summary>
public static unsafe class Activations
{
    /// <summary>Values per part when split over threads (smaller calls run on the calling thread alone).</summary>
    private const int PartValues = 1 << 16;

    /// <summary>x ← gelu_tanh(x) = x·sigmoid(2u), u = √(2/π)·(x + 0.044715·x³) — the same function as
    /// 0.5·x·(1 + tanh(u)); in place where x is a contiguous CPU float32 tensor, else libtorch's.</summary>
    public static Tensor GeluTanh_(Tensor x)
    {
        if (x.device_type != DeviceType.CPU || x.dtype != ScalarType.Float32 || !x.is_contiguous() || x.NumberOfElements > int.MaxValue)
            return x.gelu_(TorchSharp.Modules.GELU.Approximate.tanh);
        int n = (int)x.NumberOfElements, threads = Math.Clamp(n / PartValues, 1, SkinnyLinear.KernelThreads);
        float* at = SkinnyLinear.Pointer(x);
        if (threads == 1) GeluTanh(at, n);
        else SkinnyLinear.RunParts(threads, part =>
        {
            int start = (int)((long)n * part / threads), end = (int)((long)n * (part + 1) / threads);
            GeluTanh(at + start, end - start);
        });
        GC.KeepAlive(x);
        return x;
    }

    /// <summary>e^x in float32 to about an ulp (x clamped to [−104, 88.7]): n = round(x·log₂e), r = x − n·ln2 in two
    /// parts, e^r by its Taylor series to r⁷ (|r| ≤ ln2/2, the remainder under float32 rounding), scaled by 2ⁿ in one
    /// instruction. About a fifth of the instructions of Vector512.Exp, whose cost dominated softmax and GELU here.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Vector512<float> Exp(Vector512<float> x)
    {
        x = Vector512.Min(Vector512.Max(x, Vector512.Create(-104f)), Vector512.Create(88.7f));
        var n = Avx512F.RoundScale(x * Vector512.Create(1.44269504088896341f), 0);                              // nearest
        var r = Avx512F.FusedMultiplyAddNegated(n, Vector512.Create(0.693359375f), x);                            // x − n·C1
        r = Avx512F.FusedMultiplyAddNegated(n, Vector512.Create(-2.12194440e-4f), r);                             // − n·C2
        var p = Vector512.Create(1f / 5040);
        p = Avx512F.FusedMultiplyAdd(p, r, Vector512.Create(1f / 720));
        p = Avx512F.FusedMultiplyAdd(p, r, Vector512.Create(1f / 120));
        p = Avx512F.FusedMultiplyAdd(p, r, Vector512.Create(1f / 24));
        p = Avx512F.FusedMultiplyAdd(p, r, Vector512.Create(1f / 6));
        p = Avx512F.FusedMultiplyAdd(p, r, Vector512.Create(0.5f));
        p = Avx512F.FusedMultiplyAdd(p, r, Vector512<float>.One);
        p = Avx512F.FusedMultiplyAdd(p, r, Vector512<float>.One);
        return Avx512F.Scale(p, n);
    }

    /// <summary>A mask of the first <paramref name="count"/> of 16 lanes (none when it is 0 or less): tails of vectors.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Vector512<float> Lanes(int count) =>
        Vector512.LessThan(Vector512.Create(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15), Vector512.Create(count)).AsSingle();

    /// <summary>row[i] ← e^(scale·row[i] − scale·max) over n values (max the row's largest): softmax's numerators; returns
    /// their sum. The attention kernel's rows and the one-row decode step's scores both go through here.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static float SoftmaxExp(float* row, int n, float scale)
    {
        int j = 0;
        if (!Avx512F.IsSupported)
        {
            float top = float.NegativeInfinity, total = 0;
            for (; j < n; j++) top = MathF.Max(top, row[j]);
            for (j = 0; j < n; j++) total += row[j] = MathF.Exp(MathF.FusedMultiplyAdd(row[j], scale, -top * scale));
            return total;
        }
        Vector512<float> ninf = Vector512.Create(float.NegativeInfinity), zero = Vector512<float>.Zero, tops = ninf;
        for (; j + 16 <= n; j += 16) tops = Vector512.Max(tops, Vector512.Load(row + j));
        var tail = Lanes(n - j);
        if (j < n) tops = Vector512.Max(tops, Avx512F.MaskLoad(row + j, tail, ninf));
        float max = float.NegativeInfinity;
        for (int l = 0; l < 16; l++) max = MathF.Max(max, tops.GetElement(l));
        Vector512<float> scaled = Vector512.Create(scale), shift = Vector512.Create(-max * scale), sum = zero;
        for (j = 0; j + 16 <= n; j += 16)
        {
            var e = Exp(Avx512F.FusedMultiplyAdd(Vector512.Load(row + j), scaled, shift));
            e.Store(row + j);
            sum += e;
        }
        if (j < n)
        {
            var e = Exp(Avx512F.FusedMultiplyAdd(Avx512F.MaskLoad(row + j, tail, zero), scaled, shift)) & tail;
            Avx512F.MaskStore(row + j, tail, e);
            sum += e;
        }
        return Vector512.Sum(sum);
    }

    /// <summary><see cref="GeluTanh_"/> over n values at x.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static void GeluTanh(float* x, int n)
    {
        const float Beta2 = 1.5957691216057308f;   // 2·√(2/π)
        const float Kappa = 0.044715f;
        int i = 0;
        if (Avx512F.IsSupported)
        {
            Vector512<float> one = Vector512.Create(1f), beta = Vector512.Create(-Beta2), kappa = Vector512.Create(Kappa);
            for (; i + 16 <= n; i += 16)
            {
                var v = Vector512.Load(x + i);
                var inner = Avx512F.FusedMultiplyAdd(kappa * v, v * v, v);          // x + κx³
                Vector512.Store(v / (one + Exp(beta * inner)), x + i);               // x / (1 + e^(−2u))
            }
        }
        for (; i < n; i++)
        {
            float v = x[i];
            x[i] = v / (1f + MathF.Exp(-Beta2 * (v + Kappa * v * v * v)));
        }
    }
}
