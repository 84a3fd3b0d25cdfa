using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace VQToken.Engine.Kernels;

/// <summary>
/// y = x·Wᵀ (+ b) for any rows (AVX-512; 1–16 on the AVX2 and scalar paths) with W held as bfloat16 [out, in] (the checkpoint's values and layout) and
/// everything else float32: each bf16 weight is widened to float32 in registers (a 16-bit shift, exact), so
/// the result equals a float32 linear over the same weights up to summation order while reading half the
/// bytes. A decode step is bound by streaming the weights, so half the bytes is the point; for prefill and
/// vision the register tiles outrun libtorch's float32 GEMM on CPUs where MKL takes a slow path.
/// Managed memory only (no TorchSharp): callers pin or copy tensors' data.
/// </summary>
public static class Bf16RowsKernel
{
    /// <summary>The most rows the AVX2 and scalar paths take (decode); the AVX-512 path takes any number.</summary>
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
        if (!Takes(rows)) throw new ArgumentOutOfRangeException(nameof(rows), rows, $"the {Path} path takes 1 to {(Path == "avx512" ? "any number of" : MaxRows)} rows");
        ArgumentOutOfRangeException.ThrowIfLessThan(inFeatures, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(outFeatures, 1);
        if (x.Length < (long)rows * inFeatures) throw new ArgumentException($"x holds {x.Length} values, expected {rows} x {inFeatures}");
        if (weight.Length < (long)outFeatures * inFeatures) throw new ArgumentException($"weight holds {weight.Length} values, expected {outFeatures} x {inFeatures}");
        if (bias.Length != 0 && bias.Length < outFeatures) throw new ArgumentException($"bias holds {bias.Length} values, expected {outFeatures}");
        if (y.Length < (long)rows * outFeatures) throw new ArgumentException($"y holds {y.Length} values, expected {rows} x {outFeatures}");
        unsafe
        {
            fixed (float* px = x, pb = bias, py = y)
            fixed (ushort* pw = weight)
            {
                Run(px, pw, bias.Length == 0 ? null : pb, py, rows, inFeatures, outFeatures, threads, SkinnyLinear.RunParts);   // the engine's helpers
            }
        }
    }

    /// <summary><see cref="Forward"/> on raw memory (arguments unchecked), its parts run by
    /// <paramref name="runParts"/>(count, body) — the engine passes its kernel thread pool.</summary>
    internal static unsafe void Run(float* x, ushort* weight, float* bias, float* y, int rows, int inFeatures, int outFeatures,
        int threads, Action<int, Action<int>> runParts)
    {
        // One group of rows (decode steps, short prompts): packed once here and shared by the parts.
        float* packed = rows <= GroupRows(inFeatures) && Path == "avx512" ? Pack(x, rows, inFeatures, rows == 1 ? 1 : 0) : null;
        var job = new Job(x, packed, weight, bias, y, rows, inFeatures, outFeatures);
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

    /// <summary>Whether <see cref="Run"/> takes <paramref name="rows"/> rows on this CPU: any number on the
    /// AVX-512 path (prefill and vision too), up to <see cref="MaxRows"/> on the others.</summary>
    public static bool Takes(long rows) => rows >= 1 && (rows <= MaxRows || Path == "avx512");

    /// <summary>Part <paramref name="part"/> of <paramref name="parts"/> of [0, n), in multiples of 24 (whole
    /// 3-output tiles) where possible.</summary>
    internal static (int Start, int End) Split(int n, int parts, int part)
    {
        int blocks = (n + 23) / 24;
        int start = (int)((long)blocks * part / parts) * 24, end = (int)((long)blocks * (part + 1) / parts) * 24;
        return (Math.Min(start, n), Math.Min(end, n));
    }

    /// <summary>Row blocks of the packed input: 8 rows, the last one 2, 4 or 8 (padding rows are zeros).</summary>
    private static int BlockHeight(int remaining) => remaining > 4 ? 8 : remaining > 2 ? 4 : 2;

    /// <summary>Rows packed and computed together: up to ~1.5 MB of packed rows (L3; a row block at a time
    /// lands in L1/L2), so a weight is read from memory once per group, and a 1024-row prefill chunk or a
    /// frame batch still packs little.</summary>
    internal static int GroupRows(int k) => Math.Clamp(393216 / Math.Max(1, k) / 8 * 8, 8, 512);

    /// <summary>Depth superchunks (32 columns each) of a slice: all of them while a packed 8-row block fits in ~40 KB
    /// (L1, with a tile's weights), else 24 (768 columns: 24 KB of an 8-row block, measured best between 512 and 1024).</summary>
    internal static int SliceChunks(int k) => k * 8 * sizeof(float) <= 40960 ? Math.Max(1, k / 32) : 24;

    /// <summary>A register tile's work: packed rows at <see cref="X"/> (already at superchunk <see cref="S0"/>), rows
    /// R.. (Count real), outputs O.. (Outs), depth superchunks [S0, S1) and, with <see cref="Tail"/>, the 16 columns
    /// after them; sums start from <see cref="From"/> (or zero) and go to <see cref="Into"/> (or, after the last
    /// slice, reduced into y).</summary>
    private readonly unsafe struct Tile(float* x, int r, int count, int o, int outs, int s0, int s1, bool tail, float* from, float* into)
    {
        public readonly float* X = x, From = from, Into = into;
        public readonly int R = r, Count = count, O = o, Outs = outs, S0 = s0, S1 = s1;
        public readonly bool Tail = tail;
    }

    /// <summary>Outputs computed together: as many whole 3-output tiles as keep their bf16 weights in ~256 KB.</summary>
    internal static int OutputBlock(int k) => Math.Max(3, 131072 / Math.Max(1, k) / 3 * 3);

    /// <summary>x [rows, k] as blocks of <paramref name="height"/> rows (<see cref="BlockHeight"/> when 0): per
    /// 32-column superchunk each row's even columns then its odd ones ([k/32][height][2][16], matching <see cref="Even"/>
    /// and <see cref="Odd"/>), then a 16-column tail as it is ([height][16]); the last under 16 stay in x. Padding
    /// rows are zeros. In the executing thread's kernel scratch (SkinnyLinear's: neither kernel runs inside the other).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static unsafe float* Pack(float* x, int rows, int k, int height = 0)
    {
        int supers = k / 32, tail = k % 32 >= 16 ? 16 : 0, floats = 0;
        for (int r = 0; r < rows; r += 8) floats += (supers * 32 + tail) * (height > 0 ? height : BlockHeight(rows - r));
        float* packed = SkinnyLinear.Buffers.Input(Math.Max(floats, 32)), into = packed;
        var even = Vector512.Create(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
        var odd = even + Vector512<int>.One;
        for (int r0 = 0; r0 < rows; r0 += 8)
        {
            int h = height > 0 ? height : BlockHeight(rows - r0), count = Math.Min(h, rows - r0);
            for (int c = 0; c < supers; c++)
                for (int i = 0; i < h; i++, into += 32)
                {
                    if (i < count)
                    {
                        float* from = x + (long)(r0 + i) * k + c * 32;
                        Vector512<float> lo = Vector512.Load(from), hi = Vector512.Load(from + 16);
                        Vector512.Store(Avx512F.PermuteVar16x32x2(lo, even, hi), into);
                        Vector512.Store(Avx512F.PermuteVar16x32x2(lo, odd, hi), into + 16);
                    }
                    else
                    {
                        Vector512.Store(Vector512<float>.Zero, into);
                        Vector512.Store(Vector512<float>.Zero, into + 16);
                    }
                }
            if (tail > 0)
                for (int i = 0; i < h; i++, into += 16)
                    Vector512.Store(i < count ? Vector512.Load(x + (long)(r0 + i) * k + supers * 32) : Vector512<float>.Zero, into);
        }
        return packed;
    }

    private readonly unsafe struct Job(float* x, float* shared, ushort* w, float* bias, float* y, int rows, int k, int n)
    {
        public void Run(int start, int end)
        {
            string path = Path;
            if (path == "avx512")
            {
                // One row: each weight row streamed whole, one after the other (one sequential stream per
                // thread reads memory faster than several side by side).
                if (rows == 1)
                {
                    for (int o = start; o < end; o++) Avx512OneRowOneOutput(o);
                    return;
                }
                // Groups of rows packed once; then blocks of outputs whose weights fit in L2: a block comes from
                // memory once, and each row block (8 rows, in L1 or L2) walks it tile by tile.
                int group = GroupRows(k), outputBlock = OutputBlock(k), supers = k / 32, slice = SliceChunks(k);
                bool tail16 = k % 32 >= 16;
                int width = supers * 32 + (tail16 ? 16 : 0);
                float* partials = supers > slice ? SkinnyLinear.Buffers.Partial(1, (outputBlock / 3 + 1) * 24 * 16) : null;
                for (int g = 0; g < rows; g += group)
                {
                    int groupRows = Math.Min(group, rows - g);
                    float* packed = shared != null ? shared : Pack(x + (long)g * k, groupRows, k);
                    for (int ob = start; ob < end; ob += outputBlock)
                    {
                        int obEnd = Math.Min(ob + outputBlock, end);
                        float* block = packed;
                        for (int r = 0; r < groupRows; r += 8)
                        {
                            int height = BlockHeight(groupRows - r), count = Math.Min(height, groupRows - r);
                            // Deep rows go a depth slice at a time (the block's slice stays in L1); the tiles' sums
                            // wait in the partial buffer between slices, so every sum still adds its depth in order.
                            for (int s0 = 0; s0 < supers || s0 == 0; s0 += slice)
                            {
                                int s1 = Math.Min(supers, s0 + slice);
                                bool last = s1 == supers;
                                float* partial = partials;
                                for (int o = ob; o < obEnd; o += 3, partial += 24 * 16)
                                {
                                    int outs = Math.Min(3, obEnd - o);
                                    var tile = new Tile(block + (long)s0 * 32 * height, g + r, count, o, outs, s0, s1, last && tail16, s0 == 0 ? null : partial, last ? null : partial);
                                    if (height == 8) Avx512Rows8(tile);
                                    else if (height == 4) Avx512Rows4(tile);
                                    else Avx512Rows2(tile);
                                }
                            }
                            block += width * height;
                        }
                    }
                }
                return;
            }
            else if (path == "avx2")
            {
                for (int o = start; o < end; o++) Avx2Row(o);
            }
            else
            {
                for (int o = start; o < end; o++) ScalarRow(o);
            }
        }

        private static Vector512<float> Widen(ushort* p) =>
            Avx512F.ShiftLeftLogical(Avx512F.ConvertToVector512UInt32(Vector256.Load(p)), 16).AsSingle();   // 16 x bf16 → f32

        /// <summary>The even-indexed of 32 bf16 values as float32 (the low halves of their 32-bit pairs, shifted up).</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static Vector512<float> Even(ushort* p) => Avx512F.ShiftLeftLogical(Vector512.Load((uint*)p), 16).AsSingle();

        /// <summary>The odd-indexed of 32 bf16 values as float32 (the high halves, low bits cleared).</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static Vector512<float> Odd(ushort* p) => Avx512F.And(Vector512.Load((uint*)p), Vector512.Create(0xFFFF0000u)).AsSingle();

        /// <summary>One row (packed alone, <see cref="Pack"/> with height 1), output o.</summary>
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        private void Avx512OneRowOneOutput(int o)
        {
            ushort* w0 = w + (long)o * k;
            Vector512<float> a0 = default;
            int kk = 0;
            float* xc = shared;
            for (; kk + 32 <= k; kk += 32, xc += 32)
            {
                a0 = Avx512F.FusedMultiplyAdd(Vector512.Load(xc), Even(w0 + kk), a0);
                a0 = Avx512F.FusedMultiplyAdd(Vector512.Load(xc + 16), Odd(w0 + kk), a0);
            }
            if (kk + 16 <= k)
            {
                a0 = Avx512F.FusedMultiplyAdd(Vector512.Load(xc), Widen(w0 + kk), a0);
                kk += 16;
            }
            Store(0, o, Sum(a0), w0, kk);
        }

        /// <summary>Rows r..r+7 (packed, fewer real ones at the end) × outputs o..o+2 (fewer at the end): each
        /// pair of widened weight vectors feeds 8 rows' sums, 24 accumulators in registers.</summary>
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        private void Avx512Rows8(in Tile t)
        {
            ushort* w0 = w + (long)t.O * k, w1 = t.Outs > 1 ? w0 + k : w0, w2 = t.Outs > 2 ? w0 + 2L * k : w1;   // missing outputs repeat the last
            Vector512<float> a00, a01, a02, a10, a11, a12, a20, a21, a22, a30, a31, a32, a40, a41, a42, a50, a51, a52, a60, a61, a62, a70, a71, a72;
            if (t.From != null)
            {
                a00 = Vector512.Load(t.From + 0); a01 = Vector512.Load(t.From + 16); a02 = Vector512.Load(t.From + 32); a10 = Vector512.Load(t.From + 48); a11 = Vector512.Load(t.From + 64); a12 = Vector512.Load(t.From + 80); a20 = Vector512.Load(t.From + 96); a21 = Vector512.Load(t.From + 112); a22 = Vector512.Load(t.From + 128); a30 = Vector512.Load(t.From + 144); a31 = Vector512.Load(t.From + 160); a32 = Vector512.Load(t.From + 176); a40 = Vector512.Load(t.From + 192); a41 = Vector512.Load(t.From + 208); a42 = Vector512.Load(t.From + 224); a50 = Vector512.Load(t.From + 240); a51 = Vector512.Load(t.From + 256); a52 = Vector512.Load(t.From + 272); a60 = Vector512.Load(t.From + 288); a61 = Vector512.Load(t.From + 304); a62 = Vector512.Load(t.From + 320); a70 = Vector512.Load(t.From + 336); a71 = Vector512.Load(t.From + 352); a72 = Vector512.Load(t.From + 368);
            }
            else
            {
                a00 = default; a01 = default; a02 = default; a10 = default; a11 = default; a12 = default; a20 = default; a21 = default; a22 = default; a30 = default; a31 = default; a32 = default; a40 = default; a41 = default; a42 = default; a50 = default; a51 = default; a52 = default; a60 = default; a61 = default; a62 = default; a70 = default; a71 = default; a72 = default;
            }
            float* xc = t.X;
            for (int kk = t.S0 * 32; kk < t.S1 * 32; kk += 32, xc += 256)
            {
                var v0 = Even(w0 + kk); var v1 = Even(w1 + kk); var v2 = Even(w2 + kk);
                Sse.Prefetch0(w0 + 3L * k + kk); Sse.Prefetch0(w1 + 3L * k + kk); Sse.Prefetch0(w2 + 3L * k + kk);   // the next tile's weights
                var x0 = Vector512.Load(xc + 0); a00 = Avx512F.FusedMultiplyAdd(x0, v0, a00); a01 = Avx512F.FusedMultiplyAdd(x0, v1, a01); a02 = Avx512F.FusedMultiplyAdd(x0, v2, a02);
                var x1 = Vector512.Load(xc + 32); a10 = Avx512F.FusedMultiplyAdd(x1, v0, a10); a11 = Avx512F.FusedMultiplyAdd(x1, v1, a11); a12 = Avx512F.FusedMultiplyAdd(x1, v2, a12);
                var x2 = Vector512.Load(xc + 64); a20 = Avx512F.FusedMultiplyAdd(x2, v0, a20); a21 = Avx512F.FusedMultiplyAdd(x2, v1, a21); a22 = Avx512F.FusedMultiplyAdd(x2, v2, a22);
                var x3 = Vector512.Load(xc + 96); a30 = Avx512F.FusedMultiplyAdd(x3, v0, a30); a31 = Avx512F.FusedMultiplyAdd(x3, v1, a31); a32 = Avx512F.FusedMultiplyAdd(x3, v2, a32);
                var x4 = Vector512.Load(xc + 128); a40 = Avx512F.FusedMultiplyAdd(x4, v0, a40); a41 = Avx512F.FusedMultiplyAdd(x4, v1, a41); a42 = Avx512F.FusedMultiplyAdd(x4, v2, a42);
                var x5 = Vector512.Load(xc + 160); a50 = Avx512F.FusedMultiplyAdd(x5, v0, a50); a51 = Avx512F.FusedMultiplyAdd(x5, v1, a51); a52 = Avx512F.FusedMultiplyAdd(x5, v2, a52);
                var x6 = Vector512.Load(xc + 192); a60 = Avx512F.FusedMultiplyAdd(x6, v0, a60); a61 = Avx512F.FusedMultiplyAdd(x6, v1, a61); a62 = Avx512F.FusedMultiplyAdd(x6, v2, a62);
                var x7 = Vector512.Load(xc + 224); a70 = Avx512F.FusedMultiplyAdd(x7, v0, a70); a71 = Avx512F.FusedMultiplyAdd(x7, v1, a71); a72 = Avx512F.FusedMultiplyAdd(x7, v2, a72);
                v0 = Odd(w0 + kk); v1 = Odd(w1 + kk); v2 = Odd(w2 + kk);
                x0 = Vector512.Load(xc + 16); a00 = Avx512F.FusedMultiplyAdd(x0, v0, a00); a01 = Avx512F.FusedMultiplyAdd(x0, v1, a01); a02 = Avx512F.FusedMultiplyAdd(x0, v2, a02);
                x1 = Vector512.Load(xc + 48); a10 = Avx512F.FusedMultiplyAdd(x1, v0, a10); a11 = Avx512F.FusedMultiplyAdd(x1, v1, a11); a12 = Avx512F.FusedMultiplyAdd(x1, v2, a12);
                x2 = Vector512.Load(xc + 80); a20 = Avx512F.FusedMultiplyAdd(x2, v0, a20); a21 = Avx512F.FusedMultiplyAdd(x2, v1, a21); a22 = Avx512F.FusedMultiplyAdd(x2, v2, a22);
                x3 = Vector512.Load(xc + 112); a30 = Avx512F.FusedMultiplyAdd(x3, v0, a30); a31 = Avx512F.FusedMultiplyAdd(x3, v1, a31); a32 = Avx512F.FusedMultiplyAdd(x3, v2, a32);
                x4 = Vector512.Load(xc + 144); a40 = Avx512F.FusedMultiplyAdd(x4, v0, a40); a41 = Avx512F.FusedMultiplyAdd(x4, v1, a41); a42 = Avx512F.FusedMultiplyAdd(x4, v2, a42);
                x5 = Vector512.Load(xc + 176); a50 = Avx512F.FusedMultiplyAdd(x5, v0, a50); a51 = Avx512F.FusedMultiplyAdd(x5, v1, a51); a52 = Avx512F.FusedMultiplyAdd(x5, v2, a52);
                x6 = Vector512.Load(xc + 208); a60 = Avx512F.FusedMultiplyAdd(x6, v0, a60); a61 = Avx512F.FusedMultiplyAdd(x6, v1, a61); a62 = Avx512F.FusedMultiplyAdd(x6, v2, a62);
                x7 = Vector512.Load(xc + 240); a70 = Avx512F.FusedMultiplyAdd(x7, v0, a70); a71 = Avx512F.FusedMultiplyAdd(x7, v1, a71); a72 = Avx512F.FusedMultiplyAdd(x7, v2, a72);
            }
            if (t.Tail)
            {
                int kk = t.S1 * 32;
                var v0 = Widen(w0 + kk); var v1 = Widen(w1 + kk); var v2 = Widen(w2 + kk);
                var x0 = Vector512.Load(xc + 0); a00 = Avx512F.FusedMultiplyAdd(x0, v0, a00); a01 = Avx512F.FusedMultiplyAdd(x0, v1, a01); a02 = Avx512F.FusedMultiplyAdd(x0, v2, a02);
                var x1 = Vector512.Load(xc + 16); a10 = Avx512F.FusedMultiplyAdd(x1, v0, a10); a11 = Avx512F.FusedMultiplyAdd(x1, v1, a11); a12 = Avx512F.FusedMultiplyAdd(x1, v2, a12);
                var x2 = Vector512.Load(xc + 32); a20 = Avx512F.FusedMultiplyAdd(x2, v0, a20); a21 = Avx512F.FusedMultiplyAdd(x2, v1, a21); a22 = Avx512F.FusedMultiplyAdd(x2, v2, a22);
                var x3 = Vector512.Load(xc + 48); a30 = Avx512F.FusedMultiplyAdd(x3, v0, a30); a31 = Avx512F.FusedMultiplyAdd(x3, v1, a31); a32 = Avx512F.FusedMultiplyAdd(x3, v2, a32);
                var x4 = Vector512.Load(xc + 64); a40 = Avx512F.FusedMultiplyAdd(x4, v0, a40); a41 = Avx512F.FusedMultiplyAdd(x4, v1, a41); a42 = Avx512F.FusedMultiplyAdd(x4, v2, a42);
                var x5 = Vector512.Load(xc + 80); a50 = Avx512F.FusedMultiplyAdd(x5, v0, a50); a51 = Avx512F.FusedMultiplyAdd(x5, v1, a51); a52 = Avx512F.FusedMultiplyAdd(x5, v2, a52);
                var x6 = Vector512.Load(xc + 96); a60 = Avx512F.FusedMultiplyAdd(x6, v0, a60); a61 = Avx512F.FusedMultiplyAdd(x6, v1, a61); a62 = Avx512F.FusedMultiplyAdd(x6, v2, a62);
                var x7 = Vector512.Load(xc + 112); a70 = Avx512F.FusedMultiplyAdd(x7, v0, a70); a71 = Avx512F.FusedMultiplyAdd(x7, v1, a71); a72 = Avx512F.FusedMultiplyAdd(x7, v2, a72);
            }
            if (t.Into != null)
            {
                Vector512.Store(a00, t.Into + 0); Vector512.Store(a01, t.Into + 16); Vector512.Store(a02, t.Into + 32); Vector512.Store(a10, t.Into + 48); Vector512.Store(a11, t.Into + 64); Vector512.Store(a12, t.Into + 80); Vector512.Store(a20, t.Into + 96); Vector512.Store(a21, t.Into + 112); Vector512.Store(a22, t.Into + 128); Vector512.Store(a30, t.Into + 144); Vector512.Store(a31, t.Into + 160); Vector512.Store(a32, t.Into + 176); Vector512.Store(a40, t.Into + 192); Vector512.Store(a41, t.Into + 208); Vector512.Store(a42, t.Into + 224); Vector512.Store(a50, t.Into + 240); Vector512.Store(a51, t.Into + 256); Vector512.Store(a52, t.Into + 272); Vector512.Store(a60, t.Into + 288); Vector512.Store(a61, t.Into + 304); Vector512.Store(a62, t.Into + 320); Vector512.Store(a70, t.Into + 336); Vector512.Store(a71, t.Into + 352); Vector512.Store(a72, t.Into + 368);
                return;
            }
            // Sums of all accumulators at once (lane l of the result: accumulator 4·(l % 4) + l / 4 of its 16).
            var sums = stackalloc float[32];
            Reduce16(a00, a01, a02, a10, a11, a12, a20, a21, a22, a30, a31, a32, a40, a41, a42, a50, sums);
            Reduce16(a51, a52, a60, a61, a62, a70, a71, a72, default, default, default, default, default, default, default, default, sums + 16);
            StoreTile(sums, t.R, t.Count, t.O, t.Outs, w0, w1, w2);
        }

        /// <summary>Rows r..r+3 (packed, fewer real ones at the end) × outputs o..o+2 (fewer at the end): each
        /// pair of widened weight vectors feeds 4 rows' sums, 12 accumulators in registers.</summary>
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        private void Avx512Rows4(in Tile t)
        {
            ushort* w0 = w + (long)t.O * k, w1 = t.Outs > 1 ? w0 + k : w0, w2 = t.Outs > 2 ? w0 + 2L * k : w1;   // missing outputs repeat the last
            Vector512<float> a00, a01, a02, a10, a11, a12, a20, a21, a22, a30, a31, a32;
            if (t.From != null)
            {
                a00 = Vector512.Load(t.From + 0); a01 = Vector512.Load(t.From + 16); a02 = Vector512.Load(t.From + 32); a10 = Vector512.Load(t.From + 48); a11 = Vector512.Load(t.From + 64); a12 = Vector512.Load(t.From + 80); a20 = Vector512.Load(t.From + 96); a21 = Vector512.Load(t.From + 112); a22 = Vector512.Load(t.From + 128); a30 = Vector512.Load(t.From + 144); a31 = Vector512.Load(t.From + 160); a32 = Vector512.Load(t.From + 176);
            }
            else
            {
                a00 = default; a01 = default; a02 = default; a10 = default; a11 = default; a12 = default; a20 = default; a21 = default; a22 = default; a30 = default; a31 = default; a32 = default;
            }
            float* xc = t.X;
            for (int kk = t.S0 * 32; kk < t.S1 * 32; kk += 32, xc += 128)
            {
                var v0 = Even(w0 + kk); var v1 = Even(w1 + kk); var v2 = Even(w2 + kk);
                Sse.Prefetch0(w0 + 3L * k + kk); Sse.Prefetch0(w1 + 3L * k + kk); Sse.Prefetch0(w2 + 3L * k + kk);   // the next tile's weights
                var x0 = Vector512.Load(xc + 0); a00 = Avx512F.FusedMultiplyAdd(x0, v0, a00); a01 = Avx512F.FusedMultiplyAdd(x0, v1, a01); a02 = Avx512F.FusedMultiplyAdd(x0, v2, a02);
                var x1 = Vector512.Load(xc + 32); a10 = Avx512F.FusedMultiplyAdd(x1, v0, a10); a11 = Avx512F.FusedMultiplyAdd(x1, v1, a11); a12 = Avx512F.FusedMultiplyAdd(x1, v2, a12);
                var x2 = Vector512.Load(xc + 64); a20 = Avx512F.FusedMultiplyAdd(x2, v0, a20); a21 = Avx512F.FusedMultiplyAdd(x2, v1, a21); a22 = Avx512F.FusedMultiplyAdd(x2, v2, a22);
                var x3 = Vector512.Load(xc + 96); a30 = Avx512F.FusedMultiplyAdd(x3, v0, a30); a31 = Avx512F.FusedMultiplyAdd(x3, v1, a31); a32 = Avx512F.FusedMultiplyAdd(x3, v2, a32);
                v0 = Odd(w0 + kk); v1 = Odd(w1 + kk); v2 = Odd(w2 + kk);
                x0 = Vector512.Load(xc + 16); a00 = Avx512F.FusedMultiplyAdd(x0, v0, a00); a01 = Avx512F.FusedMultiplyAdd(x0, v1, a01); a02 = Avx512F.FusedMultiplyAdd(x0, v2, a02);
                x1 = Vector512.Load(xc + 48); a10 = Avx512F.FusedMultiplyAdd(x1, v0, a10); a11 = Avx512F.FusedMultiplyAdd(x1, v1, a11); a12 = Avx512F.FusedMultiplyAdd(x1, v2, a12);
                x2 = Vector512.Load(xc + 80); a20 = Avx512F.FusedMultiplyAdd(x2, v0, a20); a21 = Avx512F.FusedMultiplyAdd(x2, v1, a21); a22 = Avx512F.FusedMultiplyAdd(x2, v2, a22);
                x3 = Vector512.Load(xc + 112); a30 = Avx512F.FusedMultiplyAdd(x3, v0, a30); a31 = Avx512F.FusedMultiplyAdd(x3, v1, a31); a32 = Avx512F.FusedMultiplyAdd(x3, v2, a32);
            }
            if (t.Tail)
            {
                int kk = t.S1 * 32;
                var v0 = Widen(w0 + kk); var v1 = Widen(w1 + kk); var v2 = Widen(w2 + kk);
                var x0 = Vector512.Load(xc + 0); a00 = Avx512F.FusedMultiplyAdd(x0, v0, a00); a01 = Avx512F.FusedMultiplyAdd(x0, v1, a01); a02 = Avx512F.FusedMultiplyAdd(x0, v2, a02);
                var x1 = Vector512.Load(xc + 16); a10 = Avx512F.FusedMultiplyAdd(x1, v0, a10); a11 = Avx512F.FusedMultiplyAdd(x1, v1, a11); a12 = Avx512F.FusedMultiplyAdd(x1, v2, a12);
                var x2 = Vector512.Load(xc + 32); a20 = Avx512F.FusedMultiplyAdd(x2, v0, a20); a21 = Avx512F.FusedMultiplyAdd(x2, v1, a21); a22 = Avx512F.FusedMultiplyAdd(x2, v2, a22);
                var x3 = Vector512.Load(xc + 48); a30 = Avx512F.FusedMultiplyAdd(x3, v0, a30); a31 = Avx512F.FusedMultiplyAdd(x3, v1, a31); a32 = Avx512F.FusedMultiplyAdd(x3, v2, a32);
            }
            if (t.Into != null)
            {
                Vector512.Store(a00, t.Into + 0); Vector512.Store(a01, t.Into + 16); Vector512.Store(a02, t.Into + 32); Vector512.Store(a10, t.Into + 48); Vector512.Store(a11, t.Into + 64); Vector512.Store(a12, t.Into + 80); Vector512.Store(a20, t.Into + 96); Vector512.Store(a21, t.Into + 112); Vector512.Store(a22, t.Into + 128); Vector512.Store(a30, t.Into + 144); Vector512.Store(a31, t.Into + 160); Vector512.Store(a32, t.Into + 176);
                return;
            }
            // Sums of all accumulators at once (lane l of the result: accumulator 4·(l % 4) + l / 4 of its 16).
            var sums = stackalloc float[32];
            Reduce16(a00, a01, a02, a10, a11, a12, a20, a21, a22, a30, a31, a32, default, default, default, default, sums);
            StoreTile(sums, t.R, t.Count, t.O, t.Outs, w0, w1, w2);
        }

        /// <summary>Rows r..r+1 (packed, fewer real ones at the end) × outputs o..o+2 (fewer at the end): each
        /// pair of widened weight vectors feeds 2 rows' sums, 6 accumulators in registers.</summary>
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        private void Avx512Rows2(in Tile t)
        {
            ushort* w0 = w + (long)t.O * k, w1 = t.Outs > 1 ? w0 + k : w0, w2 = t.Outs > 2 ? w0 + 2L * k : w1;   // missing outputs repeat the last
            Vector512<float> a00, a01, a02, a10, a11, a12;
            if (t.From != null)
            {
                a00 = Vector512.Load(t.From + 0); a01 = Vector512.Load(t.From + 16); a02 = Vector512.Load(t.From + 32); a10 = Vector512.Load(t.From + 48); a11 = Vector512.Load(t.From + 64); a12 = Vector512.Load(t.From + 80);
            }
            else
            {
                a00 = default; a01 = default; a02 = default; a10 = default; a11 = default; a12 = default;
            }
            float* xc = t.X;
            for (int kk = t.S0 * 32; kk < t.S1 * 32; kk += 32, xc += 64)
            {
                var v0 = Even(w0 + kk); var v1 = Even(w1 + kk); var v2 = Even(w2 + kk);
                Sse.Prefetch0(w0 + 3L * k + kk); Sse.Prefetch0(w1 + 3L * k + kk); Sse.Prefetch0(w2 + 3L * k + kk);   // the next tile's weights
                var x0 = Vector512.Load(xc + 0); a00 = Avx512F.FusedMultiplyAdd(x0, v0, a00); a01 = Avx512F.FusedMultiplyAdd(x0, v1, a01); a02 = Avx512F.FusedMultiplyAdd(x0, v2, a02);
                var x1 = Vector512.Load(xc + 32); a10 = Avx512F.FusedMultiplyAdd(x1, v0, a10); a11 = Avx512F.FusedMultiplyAdd(x1, v1, a11); a12 = Avx512F.FusedMultiplyAdd(x1, v2, a12);
                v0 = Odd(w0 + kk); v1 = Odd(w1 + kk); v2 = Odd(w2 + kk);
                x0 = Vector512.Load(xc + 16); a00 = Avx512F.FusedMultiplyAdd(x0, v0, a00); a01 = Avx512F.FusedMultiplyAdd(x0, v1, a01); a02 = Avx512F.FusedMultiplyAdd(x0, v2, a02);
                x1 = Vector512.Load(xc + 48); a10 = Avx512F.FusedMultiplyAdd(x1, v0, a10); a11 = Avx512F.FusedMultiplyAdd(x1, v1, a11); a12 = Avx512F.FusedMultiplyAdd(x1, v2, a12);
            }
            if (t.Tail)
            {
                int kk = t.S1 * 32;
                var v0 = Widen(w0 + kk); var v1 = Widen(w1 + kk); var v2 = Widen(w2 + kk);
                var x0 = Vector512.Load(xc + 0); a00 = Avx512F.FusedMultiplyAdd(x0, v0, a00); a01 = Avx512F.FusedMultiplyAdd(x0, v1, a01); a02 = Avx512F.FusedMultiplyAdd(x0, v2, a02);
                var x1 = Vector512.Load(xc + 16); a10 = Avx512F.FusedMultiplyAdd(x1, v0, a10); a11 = Avx512F.FusedMultiplyAdd(x1, v1, a11); a12 = Avx512F.FusedMultiplyAdd(x1, v2, a12);
            }
            if (t.Into != null)
            {
                Vector512.Store(a00, t.Into + 0); Vector512.Store(a01, t.Into + 16); Vector512.Store(a02, t.Into + 32); Vector512.Store(a10, t.Into + 48); Vector512.Store(a11, t.Into + 64); Vector512.Store(a12, t.Into + 80);
                return;
            }
            // Sums of all accumulators at once (lane l of the result: accumulator 4·(l % 4) + l / 4 of its 16).
            var sums = stackalloc float[32];
            Reduce16(a00, a01, a02, a10, a11, a12, default, default, default, default, default, default, default, default, default, default, sums);
            StoreTile(sums, t.R, t.Count, t.O, t.Outs, w0, w1, w2);
        }

        /// <summary>Writes a tile's real rows × outputs from <paramref name="sums"/> (accumulator 3·row + output,
        /// laid out as <see cref="Reduce16"/> leaves them).</summary>
        private void StoreTile(float* sums, int r, int count, int o, int outs, ushort* w0, ushort* w1, ushort* w2)
        {
            if ((k & 15) == 0)
            {
                // No depth tail: the sums back in accumulator order (3·row + output), each row's outputs stored at once.
                var order = Vector512.Create(0, 4, 8, 12, 1, 5, 9, 13, 2, 6, 10, 14, 3, 7, 11, 15);
                Vector512<float> p0 = Avx512F.PermuteVar16x32(Vector512.Load(sums), order), p1 = Avx512F.PermuteVar16x32(Vector512.Load(sums + 16), order);
                var lane = Vector512.Create(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
                var mask = Activations.Lanes(outs);
                var b = bias == null ? Vector512<float>.Zero : Avx512F.MaskLoad(bias + o, mask, Vector512<float>.Zero);
                for (int i = 0; i < count; i++)
                    Avx512F.MaskStore(y + (long)(r + i) * n + o, mask, Avx512F.PermuteVar16x32x2(p0, lane + Vector512.Create(3 * i), p1) + b);
                return;
            }
            int from = k / 32 * 32 + (k % 32 >= 16 ? 16 : 0);
            for (int i = 0; i < count; i++)
                for (int j = 0; j < outs; j++)
                {
                    int a = 3 * i + j, group = a & ~15, within = a & 15;
                    Store(r + i, o + j, sums[group + 4 * (within & 3) + (within >> 2)], j == 0 ? w0 : j == 1 ? w1 : w2, from);
                }
        }

        /// <summary>The lane sums of 16 accumulators in one transposing tree (~45 instructions instead of ~16 × 28
        /// for separate sums); each sum adds its lanes in <see cref="Sum"/>'s order, so every path gives the same bits.
        /// Lane 4·b + i of the result holds accumulator 4·i + b.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static void Reduce16(Vector512<float> a0, Vector512<float> a1, Vector512<float> a2, Vector512<float> a3,
            Vector512<float> a4, Vector512<float> a5, Vector512<float> a6, Vector512<float> a7,
            Vector512<float> a8, Vector512<float> a9, Vector512<float> a10, Vector512<float> a11,
            Vector512<float> a12, Vector512<float> a13, Vector512<float> a14, Vector512<float> a15, float* into)
        {
            var u0 = Quads(Halves(a0, a1), Halves(a2, a3));
            var u1 = Quads(Halves(a4, a5), Halves(a6, a7));
            var u2 = Quads(Halves(a8, a9), Halves(a10, a11));
            var u3 = Quads(Halves(a12, a13), Halves(a14, a15));
            var v01 = Avx512F.Add(Avx512F.UnpackLow(u0, u1), Avx512F.UnpackHigh(u0, u1));
            var v23 = Avx512F.Add(Avx512F.UnpackLow(u2, u3), Avx512F.UnpackHigh(u2, u3));
            Vector512.Store(Avx512F.Add(Avx512F.Shuffle(v01, v23, 0x44), Avx512F.Shuffle(v01, v23, 0xEE)), into);
        }

        /// <summary>[a.B0+a.B2, a.B1+a.B3, b.B0+b.B2, b.B1+b.B3] over 128-bit blocks B.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static Vector512<float> Halves(Vector512<float> a, Vector512<float> b) =>
            Avx512F.Add(Avx512F.Shuffle4x128(a, b, 0x44), Avx512F.Shuffle4x128(a, b, 0xEE));

        /// <summary>From two <see cref="Halves"/> results: block i holds the 4-lane partial of the i-th accumulator.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static Vector512<float> Quads(Vector512<float> ab, Vector512<float> cd) =>
            Avx512F.Add(Avx512F.Shuffle4x128(ab, cd, 0x88), Avx512F.Shuffle4x128(ab, cd, 0xDD));

        /// <summary>One accumulator's lane sum in the order <see cref="Reduce16"/> adds them.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static float Sum(Vector512<float> a)
        {
            Vector256<float> lo = a.GetLower(), hi = a.GetUpper();
            var t = lo + hi;                                  // blocks 0+2, 1+3
            var u = t.GetLower() + t.GetUpper();              // (0+2) + (1+3)
            var p = u + Sse.Shuffle(u, u, 0xEE);              // lanes 0+2, 1+3
            return p.ToScalar() + p.GetElement(1);
        }

        /// <summary>Adds the columns from <paramref name="from"/> on (the tail under 16) and the bias, and writes y[r, o].</summary>
        private void Store(int r, int o, float sum, ushort* wr, int from)
        {
            for (int t = from; t < k; t++) sum += x[(long)r * k + t] * FromBf16(wr[t]);
            y[(long)r * n + o] = sum + (bias == null ? 0 : bias[o]);
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
                    acc = Fma.MultiplyAdd(Vector256.Load(x + (long)r * k + kk), wf, acc);
                }
                float sum = Vector256.Sum(acc);
                for (; kk < k; kk++) sum += x[(long)r * k + kk] * FromBf16(wr[kk]);
                y[(long)r * n + o] = sum + (bias == null ? 0 : bias[o]);
            }
        }

        private void ScalarRow(int o)
        {
            ushort* wr = w + (long)o * k;
            for (int r = 0; r < rows; r++)
            {
                float sum = 0;
                for (int kk = 0; kk < k; kk++) sum += x[(long)r * k + kk] * FromBf16(wr[kk]);
                y[(long)r * n + o] = sum + (bias == null ? 0 : bias[o]);
            }
        }
    }
}
