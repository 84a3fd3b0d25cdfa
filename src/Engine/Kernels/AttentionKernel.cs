using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using TorchSharp;
using static TorchSharp.torch;

namespace VQToken.Engine.Kernels;

/// <summary>softmax(q·kᵀ/√d)·v for unmasked attention (SigLIP's) on CPU float32 with AVX-512, reading the heads
/// straight out of the projections' [T, P, H·d] rows and writing the merged [T, P, H·d]: both products are
/// outer-product register tiles over a transposed copy of k, where libtorch's fused CPU attention runs at a
/// third of the FMA peak on these head sizes.</summary>
public static unsafe class AttentionKernel
{
    /// <summary>Query rows of a score block (two 4-row halves for the value product).</summary>
    private const int Rows = 8;

    [ThreadStatic] private static long t_calls;

    /// <summary>Calls on this thread (observability, tests).</summary>
    public static long CallsOnThisThread => t_calls;

    /// <summary>Whether the kernel takes q, k, v [T, P, H·d] on this process: CPU float32, contiguous, AVX-512,
    /// a head size up to 80.</summary>
    public static bool Takes(Tensor q, Tensor k, Tensor v, int heads) =>
        Avx512F.IsSupported && q.device_type == DeviceType.CPU && q.dtype == ScalarType.Float32 && q.dim() == 3
        && q.shape[2] % heads == 0 && q.shape[2] / heads is > 0 and <= 80
        && k.shape.SequenceEqual(q.shape) && v.shape.SequenceEqual(q.shape)
        && k.dtype == ScalarType.Float32 && v.dtype == ScalarType.Float32 && k.device_type == DeviceType.CPU && v.device_type == DeviceType.CPU;

    /// <summary>q, k, v [T, P, H·d] → the heads' outputs merged [T, P, H·d] (as SDPA then transpose and reshape).</summary>
    /// <param name="threads">Parts to split the (frame, head) pairs into; default the kernels' thread count.</param>
    public static Tensor Forward(Tensor q, Tensor k, Tensor v, int heads, int? threads = null)
    {
        using var qc = q.contiguous();
        using var kc = k.contiguous();
        using var vc = v.contiguous();
        var y = empty(q.shape, ScalarType.Float32, q.device);
        int frames = (int)q.shape[0], positions = (int)q.shape[1], width = (int)q.shape[2];
        Run(SkinnyLinear.Pointer(qc), SkinnyLinear.Pointer(kc), SkinnyLinear.Pointer(vc), SkinnyLinear.Pointer(y),
            frames, positions, heads, width / heads, threads ?? SkinnyLinear.KernelThreads, SkinnyLinear.RunParts);
        GC.KeepAlive(qc);   // their native memory was read through raw pointers
        GC.KeepAlive(kc);
        GC.KeepAlive(vc);
        t_calls++;
        return y;
    }

    /// <summary>The kernel on raw memory: (frame, head) pairs split over <paramref name="threads"/> parts.</summary>
    internal static void Run(float* q, float* k, float* v, float* y, int frames, int positions, int heads, int headSize,
        int threads, Action<int, Action<int>> runParts)
    {
        int pairs = frames * heads, parts = Math.Clamp(threads, 1, pairs);
        var job = new Job(q, k, v, y, positions, heads, headSize);
        if (parts == 1)
        {
            for (int pair = 0; pair < pairs; pair++) job.Head(pair / heads, pair % heads);
            return;
        }
        runParts(parts, part =>
        {
            for (int pair = pairs * part / parts; pair < pairs * (part + 1) / parts; pair++) job.Head(pair / heads, pair % heads);
        });
    }

    private readonly struct Job(float* q, float* k, float* v, float* y, int p, int heads, int d)
    {
        /// <summary>Keys padded to whole 32-key blocks (zero keys, masked out of the softmax).</summary>
        private int Keys => (p + 31) / 32 * 32;

        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        public void Head(int frame, int head)
        {
            int keys = Keys, width = heads * d;
            long origin = (long)frame * p * width + head * d;
            // This thread's scratch: kᵀ [d, keys] then the score block [Rows, keys].
            float* kt = SkinnyLinear.Buffers.Input(d * keys + Rows * keys), scores = kt + d * keys;
            float* kh = k + origin;
            for (int j = 0; j < p; j++)
                for (int c = 0; c < d; c++) kt[c * keys + j] = kh[(long)j * width + c];
            for (int c = 0; c < d; c++)
                for (int j = p; j < keys; j++) kt[c * keys + j] = 0;
            float scale = 1 / MathF.Sqrt(d);
            var sums = stackalloc float[Rows];
            for (int r0 = 0; r0 < p; r0 += Rows)
            {
                int count = Math.Min(Rows, p - r0);
                float* qr = q + origin + (long)r0 * width;
                for (int j = 0; j < keys; j += 32) Scores(qr, width, count, kt, keys, j, scores);
                for (int r = 0; r < count; r++) sums[r] = Softmax(scores + r * keys, scale);
                float* yr = y + origin + (long)r0 * width;
                for (int r = 0; r < count; r += 4) Values(scores + r * keys, keys, Math.Min(4, count - r), v + origin, width, sums + r, yr + (long)r * width);
            }
        }

        /// <summary>scores[r, j..j+31] = q[r]·k[j..j+31] for the block's rows (missing rows repeat the last).</summary>
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        private void Scores(float* qr, int width, int count, float* kt, int keys, int j, float* scores)
        {
            float* q0 = qr, q1 = qr + (long)Math.Min(1, count - 1) * width, q2 = qr + (long)Math.Min(2, count - 1) * width, q3 = qr + (long)Math.Min(3, count - 1) * width;
            float* q4 = qr + (long)Math.Min(4, count - 1) * width, q5 = qr + (long)Math.Min(5, count - 1) * width, q6 = qr + (long)Math.Min(6, count - 1) * width, q7 = qr + (long)Math.Min(7, count - 1) * width;
            Vector512<float> a00 = default, a01 = default, a10 = default, a11 = default, a20 = default, a21 = default, a30 = default, a31 = default;
            Vector512<float> a40 = default, a41 = default, a50 = default, a51 = default, a60 = default, a61 = default, a70 = default, a71 = default;
            float* kc = kt + j;
            for (int c = 0; c < d; c++, kc += keys)
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
            a00.Store(s); a01.Store(s + 16); s += keys;
            a10.Store(s); a11.Store(s + 16); s += keys;
            a20.Store(s); a21.Store(s + 16); s += keys;
            a30.Store(s); a31.Store(s + 16); s += keys;
            a40.Store(s); a41.Store(s + 16); s += keys;
            a50.Store(s); a51.Store(s + 16); s += keys;
            a60.Store(s); a61.Store(s + 16); s += keys;
            a70.Store(s); a71.Store(s + 16);
        }

        /// <summary>A row of scores → exp(scale·s − max) in place (zeros past the real keys); returns their sum.</summary>
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        private float Softmax(float* row, float scale)
        {
            var top = Vector512.Create(float.NegativeInfinity);
            int j = 0;
            for (; j + 16 <= p; j += 16) top = Vector512.Max(top, Vector512.Load(row + j));
            float max = float.NegativeInfinity;
            for (int l = 0; l < 16; l++) max = MathF.Max(max, top.GetElement(l));
            for (; j < p; j++) max = MathF.Max(max, row[j]);
            var scaled = Vector512.Create(scale);
            var shift = Vector512.Create(-max * scale);
            var total = Vector512<float>.Zero;
            j = 0;
            for (; j + 16 <= p; j += 16)
            {
                var e = Vector512.Exp(Avx512F.FusedMultiplyAdd(Vector512.Load(row + j), scaled, shift));
                e.Store(row + j);
                total += e;
            }
            float sum = Vector512.Sum(total);
            for (; j < p; j++)
            {
                float e = MathF.Exp(MathF.FusedMultiplyAdd(row[j], scale, -max * scale));
                row[j] = e;
                sum += e;
            }
            for (; j < Keys; j++) row[j] = 0;
            return sum;
        }

        /// <summary>y[r] = Σ_j probs[r, j]·v[j] / sums[r] for up to 4 rows; the head's 5th vector is masked to d − 64.</summary>
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        private void Values(float* probs, int keys, int count, float* vh, int width, float* sums, float* yr)
        {
            float* p0 = probs, p1 = probs + Math.Min(1, count - 1) * keys, p2 = probs + Math.Min(2, count - 1) * keys, p3 = probs + Math.Min(3, count - 1) * keys;
            var lane = Vector512.Create(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
            var m0 = Vector512.LessThan(lane, Vector512.Create(d)).AsSingle();
            var m1 = Vector512.LessThan(lane, Vector512.Create(d - 16)).AsSingle();
            var m2 = Vector512.LessThan(lane, Vector512.Create(d - 32)).AsSingle();
            var m3 = Vector512.LessThan(lane, Vector512.Create(d - 48)).AsSingle();
            var m4 = Vector512.LessThan(lane, Vector512.Create(d - 64)).AsSingle();
            Vector512<float> a00 = default, a01 = default, a02 = default, a03 = default, a04 = default;
            Vector512<float> a10 = default, a11 = default, a12 = default, a13 = default, a14 = default;
            Vector512<float> a20 = default, a21 = default, a22 = default, a23 = default, a24 = default;
            Vector512<float> a30 = default, a31 = default, a32 = default, a33 = default, a34 = default;
            var zero = Vector512<float>.Zero;
            float* vj = vh;
            for (int j = 0; j < p; j++, vj += width)
            {
                var v0 = Avx512F.MaskLoad(vj, m0, zero);
                var v1 = Avx512F.MaskLoad(vj + 16, m1, zero);
                var v2 = Avx512F.MaskLoad(vj + 32, m2, zero);
                var v3 = Avx512F.MaskLoad(vj + 48, m3, zero);
                var v4 = Avx512F.MaskLoad(vj + 64, m4, zero);
                var b = Vector512.Create(p0[j]);
                a00 = Avx512F.FusedMultiplyAdd(b, v0, a00); a01 = Avx512F.FusedMultiplyAdd(b, v1, a01); a02 = Avx512F.FusedMultiplyAdd(b, v2, a02); a03 = Avx512F.FusedMultiplyAdd(b, v3, a03); a04 = Avx512F.FusedMultiplyAdd(b, v4, a04);
                b = Vector512.Create(p1[j]);
                a10 = Avx512F.FusedMultiplyAdd(b, v0, a10); a11 = Avx512F.FusedMultiplyAdd(b, v1, a11); a12 = Avx512F.FusedMultiplyAdd(b, v2, a12); a13 = Avx512F.FusedMultiplyAdd(b, v3, a13); a14 = Avx512F.FusedMultiplyAdd(b, v4, a14);
                b = Vector512.Create(p2[j]);
                a20 = Avx512F.FusedMultiplyAdd(b, v0, a20); a21 = Avx512F.FusedMultiplyAdd(b, v1, a21); a22 = Avx512F.FusedMultiplyAdd(b, v2, a22); a23 = Avx512F.FusedMultiplyAdd(b, v3, a23); a24 = Avx512F.FusedMultiplyAdd(b, v4, a24);
                b = Vector512.Create(p3[j]);
                a30 = Avx512F.FusedMultiplyAdd(b, v0, a30); a31 = Avx512F.FusedMultiplyAdd(b, v1, a31); a32 = Avx512F.FusedMultiplyAdd(b, v2, a32); a33 = Avx512F.FusedMultiplyAdd(b, v3, a33); a34 = Avx512F.FusedMultiplyAdd(b, v4, a34);
            }
            Put(yr, a00, a01, a02, a03, a04, sums[0], m0, m1, m2, m3, m4);
            if (count > 1) Put(yr + width, a10, a11, a12, a13, a14, sums[1], m0, m1, m2, m3, m4);
            if (count > 2) Put(yr + 2L * width, a20, a21, a22, a23, a24, sums[2], m0, m1, m2, m3, m4);
            if (count > 3) Put(yr + 3L * width, a30, a31, a32, a33, a34, sums[3], m0, m1, m2, m3, m4);
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static void Put(float* yr, Vector512<float> a0, Vector512<float> a1, Vector512<float> a2, Vector512<float> a3, Vector512<float> a4,
            float sum, Vector512<float> m0, Vector512<float> m1, Vector512<float> m2, Vector512<float> m3, Vector512<float> m4)
        {
            var s = Vector512.Create(sum);
            Avx512F.MaskStore(yr, m0, a0 / s);
            Avx512F.MaskStore(yr + 16, m1, a1 / s);
            Avx512F.MaskStore(yr + 32, m2, a2 / s);
            Avx512F.MaskStore(yr + 48, m3, a3 / s);
            Avx512F.MaskStore(yr + 64, m4, a4 / s);
        }
    }
}
