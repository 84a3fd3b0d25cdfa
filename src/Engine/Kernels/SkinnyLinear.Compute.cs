using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using TorchSharp;
using static TorchSharp.torch;

namespace VQToken.Engine.Kernels;

/// <summary>The kernel's arithmetic: a depth-split, register-blocked y = x·W over raw memory.</summary>
internal static unsafe partial class SkinnyLinear
{
    /// <summary>The kernel on raw memory: y[m, n] = x[m, k] · w[k, n] (+ bias), w row-major [k, n].</summary>
    internal static void Run(float* x, int k, int m, float* w, int n, float* bias, float* y, int threads)
    {
        // Rows padded to 16 and transposed, so the values one weight row meets are adjacent: xt[k, 16].
        var xt = Buffers.Input(k * MaxRows);
        new Span<float>(xt, k * MaxRows).Clear();
        for (int r = 0; r < m; r++)
            for (int i = 0; i < k; i++) xt[i * MaxRows + r] = x[(long)r * k + i];

        int blocks = n / Block, tail = n % Block;          // tail is 0 or 16 columns
        int columnUnits = blocks + (tail > 0 ? 1 : 0);
        threads = Math.Clamp(Math.Min(threads, k), 1, Environment.ProcessorCount);   // every depth slice non-empty
        // Many columns: each thread takes its own columns over the whole depth. Few (896, 128): each
        // thread takes a slice of the depth over all columns, and the partial sums are added at the end.
        bool splitColumns = threads == 1 || columnUnits >= 8 * threads;
        var job = new Job(threads) { X = xt, K = k, M = m, W = w, N = n };
        if (splitColumns)
        {
            for (int t = 0; t < threads; t++)
                job.Parts[t] = new Part(0, k, columnUnits * t / threads, columnUnits * (t + 1) / threads, y);
        }
        else
        {
            for (int t = 0; t < threads; t++)
                job.Parts[t] = new Part(k * t / threads, k * (t + 1) / threads, 0, columnUnits, t == 0 ? y : Buffers.Partial(t, m * n));
        }
        Workers.Run(job);
        if (!splitColumns)
            for (int t = 1; t < threads; t++) Add(y, job.Parts[t].Output, m * n);
        if (bias != null)
            for (int r = 0; r < m; r++) Add(y + (long)r * n, bias, n);
    }

    private static void Add(float* into, float* from, int count)
    {
        int i = 0;
        for (; i + 16 <= count; i += 16) Avx512F.Store(into + i, Avx512F.Add(Avx512F.LoadVector512(into + i), Avx512F.LoadVector512(from + i)));
        for (; i < count; i++) into[i] += from[i];
    }

    /// <summary>One call: the padded, transposed input, the weight, the shape, and one part per thread.</summary>
    internal sealed class Job(int threads)
    {
        public float* X, W;
        public int K, M, N;
        public readonly Part[] Parts = new Part[threads];
        public int Count => Parts.Length;
        /// <summary>Another kernel's work (<see cref="RunParts"/>): part i runs Body(i) instead of <see cref="Compute"/>.</summary>
        public Action<int>? Body;
        /// <summary>Per part: free, claimed or done (<see cref="Workers"/>); whoever claims a part runs it.</summary>
        public int[]? Claims;
        public Exception?[]? Errors;
    }

    /// <summary>Runs <paramref name="body"/>(0..parts-1) on the calling thread and the kernel's helper
    /// threads (another kernel sharing the pool, so decode never has two sets of spinning helpers).</summary>
    internal static void RunParts(int parts, Action<int> body)
    {
        if (parts <= 1)
        {
            body(0);
            return;
        }
        int threads = Math.Min(parts, Environment.ProcessorCount);
        // More parts than cores: each thread runs every threads-th part, so none is left out.
        Action<int> run = threads == parts ? body : thread => { for (int part = thread; part < parts; part += threads) body(part); };
        Workers.Run(new Job(threads) { Body = run });
    }

    private static void Execute(Job job, int part)
    {
        if (job.Body is { } body) body(part);
        else Compute(job, job.Parts[part]);
    }

    /// <summary>The thread count of the open region on this thread, or 0 outside one.</summary>
    internal static int RegionThreads => t_threads;

    /// <summary>Threads a kernel call on this thread uses: the open region's, else libtorch's.</summary>
    internal static int KernelThreads => t_threads > 0 ? t_threads : torch.get_num_threads();

    /// <summary>A depth slice [K0, K1) × column units [Unit0, Unit1) (32 columns each; the last may be
    /// a 16-column tail), summed into Output.</summary>
    internal readonly struct Part(int k0, int k1, int unit0, int unit1, float* output)
    {
        public readonly int K0 = k0, K1 = k1, Unit0 = unit0, Unit1 = unit1;
        public readonly float* Output = output;
    }

    /// <summary>One thread's share: its depth slice × its column units, in depth chunks so the weight
    /// rows of a chunk are read as a few parallel forward streams.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static void Compute(Job job, in Part part)
    {
        int blocks = job.N / Block;
        for (int k0 = part.K0; k0 < part.K1; k0 += Chunk)
        {
            int k1 = Math.Min(part.K1, k0 + Chunk);
            bool first = k0 == part.K0;
            for (int u = part.Unit0; u < part.Unit1; u++)
            {
                if (u < blocks && job.M <= 8) Rows8Cols32(job, part.Output, k0, k1, u * Block, first);
                else if (u < blocks) { Rows16Cols16(job, part.Output, k0, k1, u * Block, first); Rows16Cols16(job, part.Output, k0, k1, u * Block + 16, first); }
                else Rows16Cols16(job, part.Output, k0, k1, blocks * Block, first);
            }
        }
    }

    /// <summary>Up to 8 rows × 32 columns: 16 accumulators, two weight loads and eight broadcasts per
    /// weight row.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Rows8Cols32(Job job, float* output, int k0, int k1, int col, bool first)
    {
        int n = job.N, m = job.M;
        float* yc = output + col;
        Vector512<float> a00, a01, a10, a11, a20, a21, a30, a31, a40, a41, a50, a51, a60, a61, a70, a71;
        a00 = Get(yc, 0, 0, n, m, first); a01 = Get(yc, 0, 16, n, m, first);
        a10 = Get(yc, 1, 0, n, m, first); a11 = Get(yc, 1, 16, n, m, first);
        a20 = Get(yc, 2, 0, n, m, first); a21 = Get(yc, 2, 16, n, m, first);
        a30 = Get(yc, 3, 0, n, m, first); a31 = Get(yc, 3, 16, n, m, first);
        a40 = Get(yc, 4, 0, n, m, first); a41 = Get(yc, 4, 16, n, m, first);
        a50 = Get(yc, 5, 0, n, m, first); a51 = Get(yc, 5, 16, n, m, first);
        a60 = Get(yc, 6, 0, n, m, first); a61 = Get(yc, 6, 16, n, m, first);
        a70 = Get(yc, 7, 0, n, m, first); a71 = Get(yc, 7, 16, n, m, first);
        float* wr = job.W + (long)k0 * n + col;
        float* xk = job.X + k0 * MaxRows;
        for (int i = k0; i < k1; i++, wr += n, xk += MaxRows)
        {
            Sse.Prefetch0(wr + PrefetchAhead);
            Sse.Prefetch0(wr + PrefetchAhead + 16);
            var w0 = Avx512F.LoadVector512(wr);
            var w1 = Avx512F.LoadVector512(wr + 16);
            var v = Vector512.Create(xk[0]); a00 = Avx512F.FusedMultiplyAdd(w0, v, a00); a01 = Avx512F.FusedMultiplyAdd(w1, v, a01);
            v = Vector512.Create(xk[1]); a10 = Avx512F.FusedMultiplyAdd(w0, v, a10); a11 = Avx512F.FusedMultiplyAdd(w1, v, a11);
            v = Vector512.Create(xk[2]); a20 = Avx512F.FusedMultiplyAdd(w0, v, a20); a21 = Avx512F.FusedMultiplyAdd(w1, v, a21);
            v = Vector512.Create(xk[3]); a30 = Avx512F.FusedMultiplyAdd(w0, v, a30); a31 = Avx512F.FusedMultiplyAdd(w1, v, a31);
            v = Vector512.Create(xk[4]); a40 = Avx512F.FusedMultiplyAdd(w0, v, a40); a41 = Avx512F.FusedMultiplyAdd(w1, v, a41);
            v = Vector512.Create(xk[5]); a50 = Avx512F.FusedMultiplyAdd(w0, v, a50); a51 = Avx512F.FusedMultiplyAdd(w1, v, a51);
            v = Vector512.Create(xk[6]); a60 = Avx512F.FusedMultiplyAdd(w0, v, a60); a61 = Avx512F.FusedMultiplyAdd(w1, v, a61);
            v = Vector512.Create(xk[7]); a70 = Avx512F.FusedMultiplyAdd(w0, v, a70); a71 = Avx512F.FusedMultiplyAdd(w1, v, a71);
        }
        Put(yc, 0, 0, n, m, a00); Put(yc, 0, 16, n, m, a01);
        Put(yc, 1, 0, n, m, a10); Put(yc, 1, 16, n, m, a11);
        Put(yc, 2, 0, n, m, a20); Put(yc, 2, 16, n, m, a21);
        Put(yc, 3, 0, n, m, a30); Put(yc, 3, 16, n, m, a31);
        Put(yc, 4, 0, n, m, a40); Put(yc, 4, 16, n, m, a41);
        Put(yc, 5, 0, n, m, a50); Put(yc, 5, 16, n, m, a51);
        Put(yc, 6, 0, n, m, a60); Put(yc, 6, 16, n, m, a61);
        Put(yc, 7, 0, n, m, a70); Put(yc, 7, 16, n, m, a71);
    }

    /// <summary>Up to 16 rows × 16 columns: 16 accumulators, one weight load and sixteen broadcasts per
    /// weight row (9–16 rows, and the 16-column tail of any width).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Rows16Cols16(Job job, float* output, int k0, int k1, int col, bool first)
    {
        int n = job.N, m = job.M;
        float* yc = output + col;
        Vector512<float> a0 = Get(yc, 0, 0, n, m, first), a1 = Get(yc, 1, 0, n, m, first), a2 = Get(yc, 2, 0, n, m, first), a3 = Get(yc, 3, 0, n, m, first);
        Vector512<float> a4 = Get(yc, 4, 0, n, m, first), a5 = Get(yc, 5, 0, n, m, first), a6 = Get(yc, 6, 0, n, m, first), a7 = Get(yc, 7, 0, n, m, first);
        Vector512<float> a8 = Get(yc, 8, 0, n, m, first), a9 = Get(yc, 9, 0, n, m, first), a10 = Get(yc, 10, 0, n, m, first), a11 = Get(yc, 11, 0, n, m, first);
        Vector512<float> a12 = Get(yc, 12, 0, n, m, first), a13 = Get(yc, 13, 0, n, m, first), a14 = Get(yc, 14, 0, n, m, first), a15 = Get(yc, 15, 0, n, m, first);
        float* wr = job.W + (long)k0 * n + col;
        float* xk = job.X + k0 * MaxRows;
        for (int i = k0; i < k1; i++, wr += n, xk += MaxRows)
        {
            Sse.Prefetch0(wr + PrefetchAhead);
            var w0 = Avx512F.LoadVector512(wr);
            a0 = Avx512F.FusedMultiplyAdd(w0, Vector512.Create(xk[0]), a0);
            a1 = Avx512F.FusedMultiplyAdd(w0, Vector512.Create(xk[1]), a1);
            a2 = Avx512F.FusedMultiplyAdd(w0, Vector512.Create(xk[2]), a2);
            a3 = Avx512F.FusedMultiplyAdd(w0, Vector512.Create(xk[3]), a3);
            a4 = Avx512F.FusedMultiplyAdd(w0, Vector512.Create(xk[4]), a4);
            a5 = Avx512F.FusedMultiplyAdd(w0, Vector512.Create(xk[5]), a5);
            a6 = Avx512F.FusedMultiplyAdd(w0, Vector512.Create(xk[6]), a6);
            a7 = Avx512F.FusedMultiplyAdd(w0, Vector512.Create(xk[7]), a7);
            a8 = Avx512F.FusedMultiplyAdd(w0, Vector512.Create(xk[8]), a8);
            a9 = Avx512F.FusedMultiplyAdd(w0, Vector512.Create(xk[9]), a9);
            a10 = Avx512F.FusedMultiplyAdd(w0, Vector512.Create(xk[10]), a10);
            a11 = Avx512F.FusedMultiplyAdd(w0, Vector512.Create(xk[11]), a11);
            a12 = Avx512F.FusedMultiplyAdd(w0, Vector512.Create(xk[12]), a12);
            a13 = Avx512F.FusedMultiplyAdd(w0, Vector512.Create(xk[13]), a13);
            a14 = Avx512F.FusedMultiplyAdd(w0, Vector512.Create(xk[14]), a14);
            a15 = Avx512F.FusedMultiplyAdd(w0, Vector512.Create(xk[15]), a15);
        }
        Put(yc, 0, 0, n, m, a0); Put(yc, 1, 0, n, m, a1); Put(yc, 2, 0, n, m, a2); Put(yc, 3, 0, n, m, a3);
        Put(yc, 4, 0, n, m, a4); Put(yc, 5, 0, n, m, a5); Put(yc, 6, 0, n, m, a6); Put(yc, 7, 0, n, m, a7);
        Put(yc, 8, 0, n, m, a8); Put(yc, 9, 0, n, m, a9); Put(yc, 10, 0, n, m, a10); Put(yc, 11, 0, n, m, a11);
        Put(yc, 12, 0, n, m, a12); Put(yc, 13, 0, n, m, a13); Put(yc, 14, 0, n, m, a14); Put(yc, 15, 0, n, m, a15);
    }

    /// <summary>Row r's running sum at column offset c (zero at the first chunk and for padding rows).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> Get(float* yc, int r, int c, int n, int m, bool first) =>
        first || r >= m ? Vector512<float>.Zero : Avx512F.LoadVector512(yc + (long)r * n + c);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Put(float* yc, int r, int c, int n, int m, Vector512<float> value)
    {
        if (r < m) Avx512F.Store(yc + (long)r * n + c, value);
    }

    internal static float* Pointer(Tensor t) => (float*)Native.THSTensor_data(t.Handle);
}
