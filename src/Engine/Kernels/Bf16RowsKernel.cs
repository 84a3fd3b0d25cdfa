using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace VQToken.Engine.Kernels;

/// <summary>
/// y = x·Wᵀ (+ b) for 1–16 rows with W held as bfloat16 [out, in] (the checkpoint's values and layout) and
/// everything else float32: each bf16 weight is widened to float32 in registers (a 16-bit shift, exact), so
/// the result equals a float32 linear over the same weights up to summation order while reading half the
/// bytes. A decode step is bound by streaming the weights, so half the bytes is the point.
/// Managed memory only (no TorchSharp): callers pin or copy tensors' data.
/// </summary>
public static class Bf16RowsKernel
{
    public const int MaxRows = 16;

    /// <summary>Which instruction path <see cref="Forward"/> takes on this CPU.</summary>
    public static string Path => Forced ?? (Avx512F.IsSupported ? "avx512" : Avx2.IsSupported && Fma.IsSupported ? "avx2" : "scalar");

    /// <summary>Tests run the narrower paths on a wider CPU with this ("avx2" or "scalar").</summary>
    internal static string? Forced { get; set; }

    /// <summary>The bf16 bits of a float32 value, rounded to nearest even (as torch's float32 → bfloat16).</summary>
    public static ushort ToBf16(float value)
    {
        uint bits = BitConverter.SingleToUInt32Bits(value);
        if (float.IsNaN(value)) return (ushort)((bits >> 16) | 0x40);
        uint rounding = 0x7FFF + ((bits >> 16) & 1);
        return (ushort)((bits + rounding) >> 16);
    }

    /// <summary>The float32 value of bf16 bits (exact).</summary>
    public static float FromBf16(ushort bits) => BitConverter.UInt32BitsToSingle((uint)bits << 16);

    /// <summary>y[r, n] = Σ_k x[r, k]·W[n, k] (+ bias[n]) for r &lt; rows, n in [0, outFeatures).</summary>
    /// <param name="x">[rows, inFeatures] float32, row-major.</param>
    /// <param name="weight">[outFeatures, inFeatures] bf16 bits, row-major.</param>
    /// <param name="bias">[outFeatures] or empty.</param>
    /// <param name="y">[rows, outFeatures] float32, row-major; overwritten.</param>
    /// <param name="threads">Output rows are split over this many threads (1 = the calling thread only).</param>
    public static void Forward(ReadOnlySpan<float> x, ReadOnlySpan<ushort> weight, ReadOnlySpan<float> bias, Span<float> y,
        int rows, int inFeatures, int outFeatures, int threads = 1)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(rows, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(rows, MaxRows);
        ArgumentOutOfRangeException.ThrowIfLessThan(inFeatures, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(outFeatures, 1);
        if (x.Length < rows * inFeatures) throw new ArgumentException($"x holds {x.Length} values, expected {rows} x {inFeatures}");
        if (weight.Length < (long)outFeatures * inFeatures) throw new ArgumentException($"weight holds {weight.Length} values, expected {outFeatures} x {inFeatures}");
        if (bias.Length != 0 && bias.Length < outFeatures) throw new ArgumentException($"bias holds {bias.Length} values, expected {outFeatures}");
        if (y.Length < rows * outFeatures) throw new ArgumentException($"y holds {y.Length} values, expected {rows} x {outFeatures}");
        unsafe
        {
            fixed (float* px = x, pb = bias, py = y)
            fixed (ushort* pw = weight)
            {
                Run(px, pw, bias.Length == 0 ? null : pb, py, rows, inFeatures, outFeatures, threads,
                    (parts, body) => Parallel.For(0, parts, new ParallelOptions { MaxDegreeOfParallelism = parts }, body));
            }
        }
    }

    /// <summary><see cref="Forward"/> on raw memory (arguments unchecked), its parts run by
    /// <paramref name="runParts"/>(count, body) — the engine passes its kernel thread pool.</summary>
    internal static unsafe void Run(float* x, ushort* weight, float* bias, float* y, int rows, int inFeatures, int outFeatures,
        int threads, Action<int, Action<int>> runParts)
    {
        var job = new Job(x, weight, bias, y, rows, inFeatures, outFeatures);
        int parts = Math.Clamp(threads, 1, Math.Max(1, outFeatures / 64));
        if (parts == 1)
        {
            job.Run(0, outFeatures);
            return;
        }
        runParts(parts, part =>
        {
            var (start, end) = Split(outFeatures, parts, part);
            job.Run(start, end);
        });
    }

    /// <summary>Part <paramref name="part"/> of <paramref name="parts"/> of [0, n), in multiples of 8 where possible.</summary>
    internal static (int Start, int End) Split(int n, int parts, int part)
    {
        int blocks = (n + 7) / 8;
        int start = (int)((long)blocks * part / parts) * 8, end = (int)((long)blocks * (part + 1) / parts) * 8;
        return (Math.Min(start, n), Math.Min(end, n));
    }

    private readonly unsafe struct Job(float* x, ushort* w, float* bias, float* y, int rows, int k, int n)
    {
        public void Run(int start, int end)
        {
            int o = start;
            string path = Path;
            if (path == "avx512")
            {
                if (rows == 1)
                    for (; o + 4 <= end; o += 4) Avx512OneRowFourOutputs(o);
                for (; o < end; o++)
                    for (int r = 0; r < rows; r += 4) Avx512FourRowsOneOutput(o, r);
            }
            else if (path == "avx2")
            {
                for (; o < end; o++) Avx2Row(o);
            }
            else
            {
                for (; o < end; o++) ScalarRow(o);
            }
        }

        private static Vector512<float> Widen(ushort* p) =>
            Avx512F.ShiftLeftLogical(Avx512F.ConvertToVector512UInt32(Vector256.Load(p)), 16).AsSingle();   // 16 x bf16 → f32

        /// <summary>One row, outputs o..o+3: four weight rows streamed side by side, sums in registers.</summary>
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        private void Avx512OneRowFourOutputs(int o)
        {
            ushort* w0 = w + (long)o * k, w1 = w0 + k, w2 = w1 + k, w3 = w2 + k;
            Vector512<float> a0 = default, a1 = default, a2 = default, a3 = default;
            int kk = 0;
            for (; kk + 16 <= k; kk += 16)
            {
                var xv = Vector512.Load(x + kk);
                a0 = Avx512F.FusedMultiplyAdd(xv, Widen(w0 + kk), a0);
                a1 = Avx512F.FusedMultiplyAdd(xv, Widen(w1 + kk), a1);
                a2 = Avx512F.FusedMultiplyAdd(xv, Widen(w2 + kk), a2);
                a3 = Avx512F.FusedMultiplyAdd(xv, Widen(w3 + kk), a3);
            }
            Store(0, o, Vector512.Sum(a0), w0, kk);
            Store(0, o + 1, Vector512.Sum(a1), w1, kk);
            Store(0, o + 2, Vector512.Sum(a2), w2, kk);
            Store(0, o + 3, Vector512.Sum(a3), w3, kk);
        }

        /// <summary>Rows r..r+3 (fewer at the end) against output o: the weight row is widened once per
        /// 16 columns and stays in L1 for the next block of rows; the four sums stay in registers.</summary>
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        private void Avx512FourRowsOneOutput(int o, int r)
        {
            ushort* wr = w + (long)o * k;
            int n4 = Math.Min(4, rows - r);
            // Missing rows repeat the last real one; their sums are discarded.
            float* x0 = x + r * k, x1 = x + (r + Math.Min(1, n4 - 1)) * k, x2 = x + (r + Math.Min(2, n4 - 1)) * k, x3 = x + (r + n4 - 1) * k;
            Vector512<float> a0 = default, a1 = default, a2 = default, a3 = default;
            int kk = 0;
            for (; kk + 16 <= k; kk += 16)
            {
                var wf = Widen(wr + kk);
                a0 = Avx512F.FusedMultiplyAdd(Vector512.Load(x0 + kk), wf, a0);
                a1 = Avx512F.FusedMultiplyAdd(Vector512.Load(x1 + kk), wf, a1);
                a2 = Avx512F.FusedMultiplyAdd(Vector512.Load(x2 + kk), wf, a2);
                a3 = Avx512F.FusedMultiplyAdd(Vector512.Load(x3 + kk), wf, a3);
            }
            Store(r, o, Vector512.Sum(a0), wr, kk);
            if (n4 > 1) Store(r + 1, o, Vector512.Sum(a1), wr, kk);
            if (n4 > 2) Store(r + 2, o, Vector512.Sum(a2), wr, kk);
            if (n4 > 3) Store(r + 3, o, Vector512.Sum(a3), wr, kk);
        }

        /// <summary>Adds the columns from <paramref name="from"/> on (the tail under 16) and the bias, and writes y[r, o].</summary>
        private void Store(int r, int o, float sum, ushort* wr, int from)
        {
            for (int t = from; t < k; t++) sum += x[r * k + t] * FromBf16(wr[t]);
            y[r * n + o] = sum + (bias == null ? 0 : bias[o]);
        }

        private void Avx2Row(int o)
        {
            ushort* wr = w + (long)o * k;
            for (int r = 0; r < rows; r++)
            {
                var acc = Vector256<float>.Zero;
                int kk = 0;
                for (; kk + 8 <= k; kk += 8)
                {
                    var wide = Avx2.ConvertToVector256Int32(Vector128.Load(wr + kk));                       // 8 x u16 → i32
                    var wf = Avx2.ShiftLeftLogical(wide, 16).AsSingle();
                    acc = Fma.MultiplyAdd(Vector256.Load(x + r * k + kk), wf, acc);
                }
                float sum = Vector256.Sum(acc);
                for (; kk < k; kk++) sum += x[r * k + kk] * FromBf16(wr[kk]);
                y[r * n + o] = sum + (bias == null ? 0 : bias[o]);
            }
        }

        private void ScalarRow(int o)
        {
            ushort* wr = w + (long)o * k;
            for (int r = 0; r < rows; r++)
            {
                float sum = 0;
                for (int kk = 0; kk < k; kk++) sum += x[r * k + kk] * FromBf16(wr[kk]);
                y[r * n + o] = sum + (bias == null ? 0 : bias[o]);
            }
        }
    }
}
