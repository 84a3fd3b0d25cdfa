using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using TorchSharp;
using static TorchSharp.torch;

namespace VQToken.Engine.Kernels;

/// <summary>softmax(q·kᵀ/√d)·v on CPU float32 with AVX-512, unmasked (SigLIP's frames) or causal after a cache
/// (Qwen2's prefill, query heads grouped over key/value heads), reading the heads in place through their strides
/// and writing the merged [.., positions, heads·d] output: both products are outer-product register tiles over a
/// transposed copy of a head's keys, where libtorch's CPU attention runs at a third of the FMA peak on these sizes.</summary>
public static unsafe class AttentionKernel
{
    /// <summary>Query rows of a score block (two 4-row halves for the value product).</summary>
    private const int Rows = 8;

    /// <summary>Whether the kernel takes q, k, v [T, P, H·d] (SigLIP's projections) in this process: CPU float32,
    /// AVX-512, a head size up to 80.</summary>
    public static bool Takes(Tensor q, Tensor k, Tensor v, int heads) =>
        Avx512F.IsSupported && q.dim() == 3 && q.shape[2] % heads == 0 && q.shape[2] / heads is > 0 and <= 80
        && k.shape.SequenceEqual(q.shape) && v.shape.SequenceEqual(q.shape) && OnCpuInFloat32(q, k, v);

    /// <summary>Whether <see cref="Causal"/> takes q [B, H, n, d] against k, v [B, Hkv, S, d].</summary>
    public static bool TakesCausal(Tensor q, Tensor k, Tensor v) =>
        Avx512F.IsSupported && q.dim() == 4 && k.dim() == 4 && v.shape.SequenceEqual(k.shape) && q.shape[0] == k.shape[0]
        && q.shape[3] == k.shape[3] && q.shape[3] is > 0 and <= 80 && k.shape[1] > 0 && q.shape[1] % k.shape[1] == 0
        && k.shape[2] >= q.shape[2] && q.stride(3) == 1 && k.stride(3) == 1 && v.stride(3) == 1 && OnCpuInFloat32(q, k, v);

    private static bool OnCpuInFloat32(Tensor q, Tensor k, Tensor v) =>
        q.device_type == DeviceType.CPU && k.device_type == DeviceType.CPU && v.device_type == DeviceType.CPU
        && q.dtype == ScalarType.Float32 && k.dtype == ScalarType.Float32 && v.dtype == ScalarType.Float32;

    /// <summary>q, k, v [T, P, H·d] → the heads' outputs merged [T, P, H·d] (as SDPA then transpose and reshape).</summary>
    /// <param name="threads">Parts to split the (frame, head) pairs into; default the kernels' thread count.</param>
    public static Tensor Forward(Tensor q, Tensor k, Tensor v, int heads, int? threads = null)
    {
        // Rows may be strided (q, k, v as column slices of one fused projection): read in place when columns are adjacent.
        using var qc = q.stride(2) == 1 ? q.alias() : q.contiguous();
        using var kc = k.stride(2) == 1 ? k.alias() : k.contiguous();
        using var vc = v.stride(2) == 1 ? v.alias() : v.contiguous();
        var y = empty(q.shape, ScalarType.Float32, q.device);
        int frames = (int)q.shape[0], positions = (int)q.shape[1], width = (int)q.shape[2], d = width / heads;
        Heads Of(Tensor t) => new(SkinnyLinear.Pointer(t), t.stride(0), d, t.stride(1));
        Run(Of(qc), Of(kc), Of(vc), Of(y), frames, heads, heads, positions, positions, d, past: -1,
            threads ?? SkinnyLinear.KernelThreads, SkinnyLinear.RunParts);
        GC.KeepAlive(qc);   // their native memory was read through raw pointers
        GC.KeepAlive(kc);
        GC.KeepAlive(vc);
        return y;
    }

    /// <summary>q [B, H, n, d] at positions S − n.. against k, v [B, Hkv, S, d] (the cache and the new positions;
    /// query head h uses key head h / (H / Hkv)), each position seeing the keys up to itself → [B, n, H·d].</summary>
    public static Tensor Causal(Tensor q, Tensor k, Tensor v, int? threads = null)
    {
        int batch = (int)q.shape[0], heads = (int)q.shape[1], n = (int)q.shape[2], d = (int)q.shape[3];
        int kvHeads = (int)k.shape[1], keys = (int)k.shape[2];
        var y = empty([batch, n, heads * d], ScalarType.Float32, q.device);
        Heads Of(Tensor t) => new(SkinnyLinear.Pointer(t), t.stride(0), t.stride(1), t.stride(2));
        Run(Of(q), Of(k), Of(v), new Heads(SkinnyLinear.Pointer(y), (long)n * heads * d, d, heads * d),
            batch, heads, kvHeads, n, keys, d, past: keys - n, threads ?? SkinnyLinear.KernelThreads, SkinnyLinear.RunParts);
        GC.KeepAlive(q);
        GC.KeepAlive(k);
        GC.KeepAlive(v);
        return y;
    }

    /// <summary>Where a tensor's heads are: element (b, h, row, c) at At + b·Batch + h·Head + row·Row + c.</summary>
    internal readonly struct Heads(float* at, long batch, long head, long row)
    {
        public readonly float* At = at;
        public readonly long Batch = batch, Head = head, Row = row;
        public float* Of(int b, int h) => At + b * Batch + h * Head;
    }

    /// <summary>The kernel on raw memory: (batch, key head) pairs split over <paramref name="threads"/> parts; each
    /// pair transposes its keys once for all the query heads that share them. <paramref name="past"/> &lt; 0: no mask.</summary>
    internal static void Run(Heads q, Heads k, Heads v, Heads y, int batch, int heads, int kvHeads, int n, int keys, int d, int past,
        int threads, Action<int, Action<int>> runParts)
    {
        int pairs = batch * kvHeads, parts = Math.Clamp(threads, 1, pairs);
        var job = new Job(q, k, v, y, heads / kvHeads, n, keys, d, past);
        if (parts == 1)
        {
            for (int pair = 0; pair < pairs; pair++) job.Pair(pair / kvHeads, pair % kvHeads);
            return;
        }
        runParts(parts, part =>
        {
            for (int pair = pairs * part / parts; pair < pairs * (part + 1) / parts; pair++) job.Pair(pair / kvHeads, pair % kvHeads);
        });
    }

    private readonly struct Job(Heads q, Heads k, Heads v, Heads y, int group, int n, int keys, int d, int past)
    {
        /// <summary>Keys padded to whole 32-key blocks (zero keys, masked out of the softmax).</summary>
        private int Padded => (keys + 31) / 32 * 32;

        /// <summary>Keys query row <paramref name="row"/> sees.</summary>
        private int Seen(int row) => past < 0 ? keys : Math.Min(keys, past + row + 1);

        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        public void Pair(int b, int kvHead)
        {
            int padded = Padded;
            // This thread's scratch: kᵀ [d, padded] then the score block [Rows, padded].
            float* kt = SkinnyLinear.Buffers.Input(d * padded + Rows * padded), scores = kt + d * padded;
            Transpose(k.Of(b, kvHead), kt, padded);
            float scale = 1 / MathF.Sqrt(d);
            var sums = stackalloc float[Rows];
            float* vh = v.Of(b, kvHead);
            for (int head = kvHead * group; head < (kvHead + 1) * group; head++)
                for (int r0 = 0; r0 < n; r0 += Rows)
                {
                    int count = Math.Min(Rows, n - r0), seen = Seen(r0 + count - 1);
                    float* qr = q.Of(b, head) + r0 * q.Row;
                    for (int j = 0; j < seen; j += 32) Scores(qr, count, kt, padded, j, scores);
                    for (int r = 0; r < count; r++) sums[r] = Softmax(scores + r * padded, scale, Seen(r0 + r), (seen + 31) / 32 * 32);
                    float* yr = y.Of(b, head) + r0 * y.Row;
                    for (int r = 0; r < count; r += 4)
                        Values(scores + r * padded, padded, Math.Min(4, count - r), Seen(r0 + Math.Min(r + 3, count - 1)), vh, sums + r, yr + r * y.Row);
                }
        }

        /// <summary>kᵀ [d, padded] of one head's keys (rows k.Row apart) in 8×8 blocks transposed in registers,
        /// zeros for the padding keys.</summary>
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        private void Transpose(float* kh, float* kt, int padded)
        {
            int whole = keys / 8 * 8, wide = d / 8 * 8;
            long row = k.Row;
            for (int j0 = 0; j0 < whole; j0 += 8)
            {
                float* from = kh + j0 * row;
                for (int c0 = 0; c0 < wide; c0 += 8)
                {
                    Vector256<float> r0 = Vector256.Load(from + c0), r1 = Vector256.Load(from + row + c0), r2 = Vector256.Load(from + 2 * row + c0), r3 = Vector256.Load(from + 3 * row + c0);
                    Vector256<float> r4 = Vector256.Load(from + 4 * row + c0), r5 = Vector256.Load(from + 5 * row + c0), r6 = Vector256.Load(from + 6 * row + c0), r7 = Vector256.Load(from + 7 * row + c0);
                    Vector256<float> t0 = Avx.UnpackLow(r0, r1), t1 = Avx.UnpackHigh(r0, r1), t2 = Avx.UnpackLow(r2, r3), t3 = Avx.UnpackHigh(r2, r3);
                    Vector256<float> t4 = Avx.UnpackLow(r4, r5), t5 = Avx.UnpackHigh(r4, r5), t6 = Avx.UnpackLow(r6, r7), t7 = Avx.UnpackHigh(r6, r7);
                    Vector256<float> s0 = Avx.Shuffle(t0, t2, 0x44), s1 = Avx.Shuffle(t0, t2, 0xEE), s2 = Avx.Shuffle(t1, t3, 0x44), s3 = Avx.Shuffle(t1, t3, 0xEE);
                    Vector256<float> s4 = Avx.Shuffle(t4, t6, 0x44), s5 = Avx.Shuffle(t4, t6, 0xEE), s6 = Avx.Shuffle(t5, t7, 0x44), s7 = Avx.Shuffle(t5, t7, 0xEE);
                    float* into = kt + c0 * padded + j0;
                    Avx.Permute2x128(s0, s4, 0x20).Store(into);
                    Avx.Permute2x128(s1, s5, 0x20).Store(into + padded);
                    Avx.Permute2x128(s2, s6, 0x20).Store(into + 2 * padded);
                    Avx.Permute2x128(s3, s7, 0x20).Store(into + 3 * padded);
                    Avx.Permute2x128(s0, s4, 0x31).Store(into + 4 * padded);
                    Avx.Permute2x128(s1, s5, 0x31).Store(into + 5 * padded);
                    Avx.Permute2x128(s2, s6, 0x31).Store(into + 6 * padded);
                    Avx.Permute2x128(s3, s7, 0x31).Store(into + 7 * padded);
                }
                for (int c = wide; c < d; c++)
                    for (int i = 0; i < 8; i++) kt[c * padded + j0 + i] = from[i * row + c];
            }
            for (int j = whole; j < keys; j++)
                for (int c = 0; c < d; c++) kt[c * padded + j] = kh[j * row + c];
            for (int c = 0; c < d; c++)
                for (int j = keys; j < padded; j++) kt[c * padded + j] = 0;
        }

        /// <summary>scores[r, j..j+31] = q[r]·k[j..j+31] for the block's rows (missing rows repeat the last).</summary>
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        private void Scores(float* qr, int count, float* kt, int stride, int j, float* scores)
        {
            long width = q.Row;
            float* q0 = qr, q1 = qr + Math.Min(1, count - 1) * width, q2 = qr + Math.Min(2, count - 1) * width, q3 = qr + Math.Min(3, count - 1) * width;
            float* q4 = qr + Math.Min(4, count - 1) * width, q5 = qr + Math.Min(5, count - 1) * width, q6 = qr + Math.Min(6, count - 1) * width, q7 = qr + Math.Min(7, count - 1) * width;
            Vector512<float> a00 = default, a01 = default, a10 = default, a11 = default, a20 = default, a21 = default, a30 = default, a31 = default;
            Vector512<float> a40 = default, a41 = default, a50 = default, a51 = default, a60 = default, a61 = default, a70 = default, a71 = default;
            float* kc = kt + j;
            for (int c = 0; c < d; c++, kc += stride)
            {
                var k0 = Vector512.Load(kc);
                var k1 = Vector512.Load(kc + 16);
                var b = Vector512.Create(q0[c]); a00 = Avx512F.FusedMultiplyAdd(b, k0, a00); a01 = Avx512F.FusedMultiplyAdd(b, k1, a01);
                b = Vector512.Create(q1[c]); a10 = Avx512F.FusedMultiplyAdd(b, k0, a10); a11 = Avx512F.FusedMultiplyAdd(b, k1, a11);
                b = Vector512.Create(q2[c]); a20 = Avx512F.FusedMultiplyAdd(b, k0, a20); a21 = Avx512F.FusedMultiplyAdd(b, k1, a21);
                b = Vector512.Create(q3[c]); a30 = Avx512F.FusedMultiplyAdd(b, k0, a30); a31 = Avx512F.FusedMultiplyAdd(b, k1, a31);
                b = Vector512.Create(q4[c]); a40 = Avx512F.FusedMultiplyAdd(b, k0, a40); a41 = Avx512F.FusedMultiplyAdd(b, k1, a41);
                b = Vector512.Create(q5[c]); a50 = Avx512F.FusedMultiplyAdd(b, k0, a50); a51 = Avx512F.FusedMultiplyAdd(b, k1, a51);
                b = Vector512.Create(q6[c]); a60 = Avx512F.FusedMultiplyAdd(b, k0, a60); a61 = Avx512F.FusedMultiplyAdd(b, k1, a61);
                b = Vector512.Create(q7[c]); a70 = Avx512F.FusedMultiplyAdd(b, k0, a70); a71 = Avx512F.FusedMultiplyAdd(b, k1, a71);
            }
            float* s = scores + j;
            a00.Store(s); a01.Store(s + 16); s += stride;
            a10.Store(s); a11.Store(s + 16); s += stride;
            a20.Store(s); a21.Store(s + 16); s += stride;
            a30.Store(s); a31.Store(s + 16); s += stride;
            a40.Store(s); a41.Store(s + 16); s += stride;
            a50.Store(s); a51.Store(s + 16); s += stride;
            a60.Store(s); a61.Store(s + 16); s += stride;
            a70.Store(s); a71.Store(s + 16);
        }

        /// <summary>A row of scores → exp(scale·s − max) over the <paramref name="p"/> keys it sees, in place, zeros
        /// after them up to <paramref name="end"/>; returns their sum.</summary>
        private static float Softmax(float* row, float scale, int p, int end)
        {
            float sum = Activations.SoftmaxExp(row, p, scale);
            for (int j = p; j < end; j++) row[j] = 0;
            return sum;
        }

        /// <summary>y[r] = Σ_j probs[r, j]·v[j] / sums[r] for up to 4 rows (missing rows repeat the last), over the
        /// first <paramref name="p"/> keys.</summary>
        private void Values(float* probs, int stride, int count, int p, float* vh, float* sums, float* yr)
        {
            float* p0 = probs, p1 = probs + Math.Min(1, count - 1) * stride, p2 = probs + Math.Min(2, count - 1) * stride, p3 = probs + Math.Min(3, count - 1) * stride;
            if (d > 64) Values5(p0, p1, p2, p3, count, p, vh, sums, yr);
            else Values4(p0, p1, p2, p3, count, p, vh, sums, yr);
        }

        /// <summary><see cref="Values"/> for heads of 65–80: four whole vectors and a masked fifth, 20 accumulators.</summary>
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        private void Values5(float* p0, float* p1, float* p2, float* p3, int count, int p, float* vh, float* sums, float* yr)
        {
            long width = v.Row, into = y.Row;
            var m4 = Activations.Lanes(d - 64);
            Vector512<float> a00 = default, a01 = default, a02 = default, a03 = default, a04 = default;
            Vector512<float> a10 = default, a11 = default, a12 = default, a13 = default, a14 = default;
            Vector512<float> a20 = default, a21 = default, a22 = default, a23 = default, a24 = default;
            Vector512<float> a30 = default, a31 = default, a32 = default, a33 = default, a34 = default;
            float* vj = vh;
            for (int j = 0; j < p; j++, vj += width)
            {
                var v0 = Vector512.Load(vj);
                var v1 = Vector512.Load(vj + 16);
                var v2 = Vector512.Load(vj + 32);
                var v3 = Vector512.Load(vj + 48);
                var v4 = Avx512F.MaskLoad(vj + 64, m4, Vector512<float>.Zero);
                var b = Vector512.Create(p0[j]);
                a00 = Avx512F.FusedMultiplyAdd(b, v0, a00); a01 = Avx512F.FusedMultiplyAdd(b, v1, a01); a02 = Avx512F.FusedMultiplyAdd(b, v2, a02); a03 = Avx512F.FusedMultiplyAdd(b, v3, a03); a04 = Avx512F.FusedMultiplyAdd(b, v4, a04);
                b = Vector512.Create(p1[j]);
                a10 = Avx512F.FusedMultiplyAdd(b, v0, a10); a11 = Avx512F.FusedMultiplyAdd(b, v1, a11); a12 = Avx512F.FusedMultiplyAdd(b, v2, a12); a13 = Avx512F.FusedMultiplyAdd(b, v3, a13); a14 = Avx512F.FusedMultiplyAdd(b, v4, a14);
                b = Vector512.Create(p2[j]);
                a20 = Avx512F.FusedMultiplyAdd(b, v0, a20); a21 = Avx512F.FusedMultiplyAdd(b, v1, a21); a22 = Avx512F.FusedMultiplyAdd(b, v2, a22); a23 = Avx512F.FusedMultiplyAdd(b, v3, a23); a24 = Avx512F.FusedMultiplyAdd(b, v4, a24);
                b = Vector512.Create(p3[j]);
                a30 = Avx512F.FusedMultiplyAdd(b, v0, a30); a31 = Avx512F.FusedMultiplyAdd(b, v1, a31); a32 = Avx512F.FusedMultiplyAdd(b, v2, a32); a33 = Avx512F.FusedMultiplyAdd(b, v3, a33); a34 = Avx512F.FusedMultiplyAdd(b, v4, a34);
            }
            Put(yr, a00, a01, a02, a03, a04, sums[0], d);
            if (count > 1) Put(yr + into, a10, a11, a12, a13, a14, sums[1], d);
            if (count > 2) Put(yr + 2 * into, a20, a21, a22, a23, a24, sums[2], d);
            if (count > 3) Put(yr + 3 * into, a30, a31, a32, a33, a34, sums[3], d);
        }

        /// <summary><see cref="Values"/> for heads up to 64: four vectors (masked past d), 16 accumulators.</summary>
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        private void Values4(float* p0, float* p1, float* p2, float* p3, int count, int p, float* vh, float* sums, float* yr)
        {
            long width = v.Row, into = y.Row;
            Vector512<float> m0 = Activations.Lanes(d), m1 = Activations.Lanes(d - 16), m2 = Activations.Lanes(d - 32), m3 = Activations.Lanes(d - 48), zero = Vector512<float>.Zero;
            Vector512<float> a00 = default, a01 = default, a02 = default, a03 = default;
            Vector512<float> a10 = default, a11 = default, a12 = default, a13 = default;
            Vector512<float> a20 = default, a21 = default, a22 = default, a23 = default;
            Vector512<float> a30 = default, a31 = default, a32 = default, a33 = default;
            float* vj = vh;
            for (int j = 0; j < p; j++, vj += width)
            {
                var v0 = Avx512F.MaskLoad(vj, m0, zero);
                var v1 = Avx512F.MaskLoad(vj + 16, m1, zero);
                var v2 = Avx512F.MaskLoad(vj + 32, m2, zero);
                var v3 = Avx512F.MaskLoad(vj + 48, m3, zero);
                var b = Vector512.Create(p0[j]);
                a00 = Avx512F.FusedMultiplyAdd(b, v0, a00); a01 = Avx512F.FusedMultiplyAdd(b, v1, a01); a02 = Avx512F.FusedMultiplyAdd(b, v2, a02); a03 = Avx512F.FusedMultiplyAdd(b, v3, a03);
                b = Vector512.Create(p1[j]);
                a10 = Avx512F.FusedMultiplyAdd(b, v0, a10); a11 = Avx512F.FusedMultiplyAdd(b, v1, a11); a12 = Avx512F.FusedMultiplyAdd(b, v2, a12); a13 = Avx512F.FusedMultiplyAdd(b, v3, a13);
                b = Vector512.Create(p2[j]);
                a20 = Avx512F.FusedMultiplyAdd(b, v0, a20); a21 = Avx512F.FusedMultiplyAdd(b, v1, a21); a22 = Avx512F.FusedMultiplyAdd(b, v2, a22); a23 = Avx512F.FusedMultiplyAdd(b, v3, a23);
                b = Vector512.Create(p3[j]);
                a30 = Avx512F.FusedMultiplyAdd(b, v0, a30); a31 = Avx512F.FusedMultiplyAdd(b, v1, a31); a32 = Avx512F.FusedMultiplyAdd(b, v2, a32); a33 = Avx512F.FusedMultiplyAdd(b, v3, a33);
            }
            Put(yr, a00, a01, a02, a03, zero, sums[0], d);
            if (count > 1) Put(yr + into, a10, a11, a12, a13, zero, sums[1], d);
            if (count > 2) Put(yr + 2 * into, a20, a21, a22, a23, zero, sums[2], d);
            if (count > 3) Put(yr + 3 * into, a30, a31, a32, a33, zero, sums[3], d);
        }

        /// <summary>A row's sums divided by its softmax total, its d values stored (inlined: a call after the loop
        /// would make the JIT spill the accumulators inside it).</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static void Put(float* yr, Vector512<float> a0, Vector512<float> a1, Vector512<float> a2, Vector512<float> a3, Vector512<float> a4, float sum, int d)
        {
            var s = Vector512.Create(sum);
            Avx512F.MaskStore(yr, Activations.Lanes(d), a0 / s);
            Avx512F.MaskStore(yr + 16, Activations.Lanes(d - 16), a1 / s);
            Avx512F.MaskStore(yr + 32, Activations.Lanes(d - 32), a2 / s);
            Avx512F.MaskStore(yr + 48, Activations.Lanes(d - 48), a3 / s);
            Avx512F.MaskStore(yr + 64, Activations.Lanes(d - 64), a4 / s);
        }
    }
}
