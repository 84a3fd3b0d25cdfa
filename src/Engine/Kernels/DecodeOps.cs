using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using TorchSharp;
using static TorchSharp.torch;

namespace VQToken.Engine.Kernels;

/// <summary>The element-wise parts of a one-row decode step (RMSNorm, rotary, SiLU·up, residual add, attention
/// of one query over its cache) as loops over raw float32 memory: at one row each libtorch call costs more in
/// dispatch than in arithmetic, and a step made ~1,000 of them. Same formulas and operation order as the
/// libtorch compositions in <c>Models</c>, so results agree up to float32 rounding (sums may be ordered differently).
/// Vector512 where the CPU accelerates it, scalar loops elsewhere.</summary>
internal static unsafe class DecodeOps
{
    private static bool Wide => Vector512.IsHardwareAccelerated;

    /// <summary>y = weight · (x · rsqrt(mean(x²) + eps)) over n values (y may be x).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void RmsNorm(float* x, float* weight, float eps, float* y, int n)
    {
        float r = 1f / MathF.Sqrt(Dot(x, x, n) / n + eps);
        int i = 0;
        if (Wide)
        {
            var vr = Vector512.Create(r);
            for (; i + 16 <= n; i += 16) Vector512.Store(Vector512.Load(weight + i) * (Vector512.Load(x + i) * vr), y + i);
        }
        for (; i < n; i++) y[i] = weight[i] * (x[i] * r);
    }

    /// <summary>into += from over n values.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Add(float* into, float* from, int n)
    {
        int i = 0;
        if (Wide)
            for (; i + 16 <= n; i += 16) Vector512.Store(Vector512.Load(into + i) + Vector512.Load(from + i), into + i);
        for (; i < n; i++) into[i] += from[i];
    }

    /// <summary>gate = silu(gate) · up = gate / (1 + exp(−gate)) · up over n values.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void SiluMul(float* gate, float* up, int n)
    {
        int i = 0;
        if (Wide)
        {
            var one = Vector512.Create(1f);
            for (; i + 16 <= n; i += 16)
            {
                var g = Vector512.Load(gate + i);
                Vector512.Store(g / (one + Activations.Exp(-g)) * Vector512.Load(up + i), gate + i);
            }
        }
        for (; i < n; i++) gate[i] = gate[i] / (1f + MathF.Exp(-gate[i])) * up[i];
    }

    /// <summary>Rotary embedding of one position, rotate-half convention, in place: each of the heads' [headDim]
    /// vectors x becomes x·cos + rotate_half(x)·sin, rotate_half(x) = (−x₂, x₁) for halves x₁, x₂.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Rotary(float* x, int heads, int headDim, float* cos, float* sin)
    {
        int half = headDim / 2;
        for (int h = 0; h < heads; h++)
        {
            float* v = x + (long)h * headDim;
            int i = 0;
            if (Wide)
                for (; i + 16 <= half; i += 16)
                {
                    var x1 = Vector512.Load(v + i);
                    var x2 = Vector512.Load(v + half + i);
                    Vector512.Store(x1 * Vector512.Load(cos + i) + -x2 * Vector512.Load(sin + i), v + i);
                    Vector512.Store(x2 * Vector512.Load(cos + half + i) + x1 * Vector512.Load(sin + half + i), v + half + i);
                }
            for (; i < half; i++)
            {
                float x1 = v[i], x2 = v[half + i];
                v[i] = x1 * cos[i] + -x2 * sin[i];
                v[half + i] = x2 * cos[half + i] + x1 * sin[half + i];
            }
        }
    }

    /// <summary>Whether <see cref="ArgMax(Tensor)"/> reads <paramref name="logits"/> in place: float32, contiguous, on the CPU.</summary>
    public static bool TakesArgMax(Tensor logits) =>
        logits.dtype == ScalarType.Float32 && logits.device_type == DeviceType.CPU && logits.is_contiguous() && logits.NumberOfElements is > 0 and <= int.MaxValue;

    /// <summary>Greedy choice over a decode step's logits without a libtorch call: <see cref="ArgMax(float*, int)"/> in place.</summary>
    public static long ArgMax(Tensor logits)
    {
        long index = ArgMax(SkinnyLinear.Pointer(logits), (int)logits.NumberOfElements);
        GC.KeepAlive(logits);
        return index;
    }

    /// <summary>The index of the largest of n values, the first one on ties; a NaN counts as the largest (as torch.argmax).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static int ArgMax(float* x, int n)
    {
        float max = float.NegativeInfinity;
        int i = 0;
        if (Wide && n >= 16)
        {
            var acc = Vector512.Create(float.NegativeInfinity);
            for (; i + 16 <= n; i += 16)
            {
                var v = Vector512.Load(x + i);
                if (!Vector512.EqualsAll(v, v)) return FirstNaN(x, n);
                acc = Vector512.Max(acc, v);
            }
            for (int lane = 0; lane < 16; lane++) max = Math.Max(max, acc[lane]);
        }
        for (; i < n; i++)
        {
            if (float.IsNaN(x[i])) return FirstNaN(x, n);
            max = Math.Max(max, x[i]);
        }
        for (i = 0; i < n; i++)
            if (x[i] == max) return i;
        return 0;   // n == 0
    }

    private static int FirstNaN(float* x, int n)
    {
        for (int i = 0; i < n; i++)
            if (float.IsNaN(x[i])) return i;
        return 0;
    }

    /// <summary>Attention of one query position over <paramref name="positions"/> cached positions:
    /// q [heads, headDim]; keys and values [kvHeads, capacity, headDim] (a cache's buffers, the first positions
    /// filled); query head h reads kv head h / (heads / kvHeads). out [heads, headDim] = softmax(q·kᵀ/√headDim)·v.
    /// <paramref name="scores"/> holds at least <paramref name="positions"/> floats; <paramref name="probabilities"/>, when
    /// not null, receives the softmax [heads, positions] (an evidence ask's attention probe).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Attend(float* q, int heads, int kvHeads, int headDim, float* keys, float* values, long capacity, int positions,
        float* scores, float* output, float* probabilities = null)
    {
        int repeat = heads / kvHeads;
        float scale = 1f / MathF.Sqrt(headDim);
        for (int h = 0; h < heads; h++)
        {
            long head = (long)(h / repeat) * capacity * headDim;
            float* qh = q + (long)h * headDim, kh = keys + head, vh = values + head, oh = output + (long)h * headDim;
            for (int s = 0; s < positions; s++) scores[s] = Dot(qh, kh + (long)s * headDim, headDim);
            float inverse = 1f / Activations.SoftmaxExp(scores, positions, scale);
            if (probabilities != null)
                for (int s = 0; s < positions; s++) probabilities[(long)h * positions + s] = scores[s] * inverse;
            new Span<float>(oh, headDim).Clear();
            for (int s = 0; s < positions; s++) Axpy(scores[s] * inverse, vh + (long)s * headDim, oh, headDim);
        }
    }

    /// <summary>Σ a[i]·b[i] (16 float32 partial sums, then their tree sum).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static float Dot(float* a, float* b, int n)
    {
        int i = 0;
        float total = 0;
        if (Wide && n >= 16)
        {
            var acc = Vector512<float>.Zero;
            for (; i + 16 <= n; i += 16) acc = Vector512.FusedMultiplyAdd(Vector512.Load(a + i), Vector512.Load(b + i), acc);
            total = Vector512.Sum(acc);
        }
        for (; i < n; i++) total += a[i] * b[i];
        return total;
    }

    /// <summary>y += a·x over n values.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Axpy(float a, float* x, float* y, int n)
    {
        int i = 0;
        if (Wide)
        {
            var va = Vector512.Create(a);
            for (; i + 16 <= n; i += 16) Vector512.Store(Vector512.FusedMultiplyAdd(va, Vector512.Load(x + i), Vector512.Load(y + i)), y + i);
        }
        for (; i < n; i++) y[i] += a * x[i];
    }
}
