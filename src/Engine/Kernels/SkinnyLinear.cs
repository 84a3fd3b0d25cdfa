using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using TorchSharp;
using static TorchSharp.torch;

namespace VQToken.Engine.Models;

/// <summary>y = x·Wᵀ (+ b) for a handful of rows — the sequences of one decode step — on CPU in float32,
/// with W stored column-major as <see cref="Layers.ColumnMajorLinear"/> keeps it ([in, out] contiguous).
/// <para>Why: with 2–16 rows the step must stream every weight once from memory, and its arithmetic is
/// small; libtorch's GEMM (MKL) reaches only ~60 GFLOP/s at 8 rows on this shape (its blocking is made for
/// tall matrices), so an 8-row step took ~1.8x a 1-row step. This kernel keeps the rows' partial sums of
/// a 32-column block in AVX-512 registers, walks the weight rows in chunks with software prefetch, and
/// splits the work over the engine's threads: an 8-row pass costs about what streaming the weights costs
/// (docs/BENCHMARKS.md).</para>
/// <para>Used only inside <see cref="Begin"/> on the thread that owns the tensors (the engine thread in a
/// batched decode step); everything else — one row, prefill, other devices and dtypes, CPUs without
/// AVX-512 — keeps libtorch's linear. The helper threads touch raw weight memory only, never TorchSharp.</para></summary>
internal static unsafe class SkinnyLinear
{
    public const int MinRows = 2, MaxRows = 16;
    private const int Block = 32, Chunk = 32, PrefetchAhead = 64;

    /// <summary>Whether this process can run the kernel at all: an AVX-512 CPU, and libtorch's OpenMP
    /// within reach (see <see cref="Begin"/>).</summary>
    public static bool Supported => Avx512F.IsSupported && OpenMp.Available;

    [ThreadStatic] private static int t_threads;
    [ThreadStatic] private static long t_calls;

    /// <summary>Kernel calls made on this thread (observability, tests).</summary>
    public static long CallsOnThisThread => t_calls;

    /// <summary>Starts a region on this thread in which <see cref="Forward(TorchSharp.Modules.Linear, Tensor)"/>
    /// may use the kernel with <paramref name="threads"/> threads. libtorch runs single-threaded on this
    /// thread meanwhile, so its OpenMP workers go to sleep instead of spinning on the cores the kernel's
    /// helpers need (with them spinning, an 8-row step took ~280 ms instead of ~105 ms); its remaining
    /// work in a decode step — norms, rotary, one attention call per layer — is small. Only this
    /// thread's OpenMP setting changes (<see cref="OpenMp"/>), never libtorch's process-wide default.
    /// Inactive (libtorch's linear everywhere) where that setting cannot be reached.</summary>
    public static Region Begin(int threads) => new(threads);

    /// <summary>A region for a decode step of <paramref name="rows"/> sequences whose activations look
    /// like <paramref name="like"/>, or an inactive one when the kernel would not take its linears
    /// (libtorch then keeps all its threads).</summary>
    public static Region For(int rows, Tensor like) =>
        rows is >= MinRows and <= MaxRows && like.device_type == DeviceType.CPU && like.dtype == ScalarType.Float32
            ? Begin(torch.get_num_threads()) : default;

    public readonly struct Region : IDisposable
    {
        private readonly (int, int) _previousThreads;
        private readonly bool _active;

        internal Region(int threads)
        {
            _active = Supported && threads >= 1 && t_threads == 0;
            if (!_active) return;
            t_threads = threads;
            _previousThreads = OpenMp.Set(1);
        }

        public void Dispose()
        {
            if (!_active) return;
            t_threads = 0;
            OpenMp.Restore(_previousThreads);
        }
    }

    /// <summary>The calling thread's thread counts in libtorch's runtimes: OpenMP's
    /// (<c>omp_get_max_threads</c> / <c>omp_set_num_threads</c>, a per-thread setting that libtorch's
    /// parallel loops follow) and MKL's thread-local one (<c>MKL_Set_Num_Threads_Local</c>, the C entry
    /// point, for the GEMMs inside attention). Found among the loaded libraries: libtorch's libgomp
    /// carries a hash in its file name. <c>torch.set_num_threads</c> is not used because it also changes
    /// the process-wide default that every new thread starts from.</summary>
    internal static class OpenMp
    {
        private static readonly delegate* unmanaged<int> s_get;
        private static readonly delegate* unmanaged<int, void> s_set;
        private static readonly delegate* unmanaged<int, int> s_mklLocal;

        static OpenMp()
        {
            torch.get_num_threads();   // libtorch, and with it libgomp, is loaded
            try
            {
                var loaded = File.ReadLines("/proc/self/maps")
                    .Select(line => line.Split(' ', StringSplitOptions.RemoveEmptyEntries))
                    .Where(fields => fields.Length >= 6 && fields[^1].StartsWith('/'))
                    .Select(fields => fields[^1])
                    .Distinct()
                    .ToList();
                IntPtr Export(string library, string name) =>
                    loaded.FirstOrDefault(path => Path.GetFileName(path).StartsWith(library, StringComparison.Ordinal)) is { } path
                    && NativeLibrary.TryLoad(path, out var handle) && NativeLibrary.TryGetExport(handle, name, out var address) ? address : IntPtr.Zero;
                IntPtr get = Export("libgomp", "omp_get_max_threads"), set = Export("libgomp", "omp_set_num_threads");
                if (get == IntPtr.Zero || set == IntPtr.Zero) return;
                s_get = (delegate* unmanaged<int>)get;
                s_set = (delegate* unmanaged<int, void>)set;
                s_mklLocal = (delegate* unmanaged<int, int>)Export("libtorch_cpu", "MKL_Set_Num_Threads_Local");
            }
            catch (IOException) { }          // no /proc: not Linux; the region stays inactive
            catch (UnauthorizedAccessException) { }
        }

        public static bool Available => s_get != null;

        /// <summary>Sets this thread's counts; returns what to pass to <see cref="Restore"/>.</summary>
        public static (int OpenMp, int Mkl) Set(int threads)
        {
            int openMp = s_get();
            s_set(threads);
            int mkl = s_mklLocal != null ? s_mklLocal(threads) : 0;
            return (openMp, mkl);
        }

        public static void Restore((int OpenMp, int Mkl) previous)
        {
            s_set(previous.OpenMp);
            if (s_mklLocal != null) s_mklLocal(previous.Mkl);   // 0: MKL's process-wide setting again
        }
    }

    /// <summary><paramref name="linear"/>(x), through the kernel when it applies.</summary>
    public static Tensor Forward(TorchSharp.Modules.Linear linear, Tensor x) =>
        TryForward(x, linear.weight!, linear.bias) ?? linear.forward(x);

    /// <summary>x·Wᵀ for W [out, in], through the kernel when it applies.</summary>
    public static Tensor Forward(Tensor x, Tensor weight) => TryForward(x, weight, null) ?? nn.functional.linear(x, weight);

    /// <summary>Whether the kernel takes this call: inside a region, CPU float32, 2–16 rows, a
    /// contiguous input and a column-major weight whose width is a multiple of 16.</summary>
    public static bool Applies(Tensor x, Tensor weight, Tensor? bias)
    {
        if (t_threads == 0 || x.device_type != DeviceType.CPU || weight.device_type != DeviceType.CPU) return false;
        if (x.dtype != ScalarType.Float32 || weight.dtype != ScalarType.Float32) return false;
        if (weight.dim() != 2 || !x.is_contiguous()) return false;
        long outputs = weight.shape[0], inputs = weight.shape[1];
        if (inputs == 0 || x.shape[^1] != inputs || outputs % 16 != 0 || weight.stride(0) != 1 || weight.stride(1) != outputs) return false;
        long rows = x.NumberOfElements / inputs;
        if (rows < MinRows || rows > MaxRows) return false;
        return bias is null || (bias.dtype == ScalarType.Float32 && bias.is_contiguous() && bias.NumberOfElements == outputs);
    }

    private static Tensor? TryForward(Tensor x, Tensor weight, Tensor? bias)
    {
        if (!Applies(x, weight, bias)) return null;
        int k = (int)weight.shape[1], n = (int)weight.shape[0], m = (int)(x.NumberOfElements / k);
        var shape = x.shape.ToArray();
        shape[^1] = n;
        var y = empty(shape, ScalarType.Float32, x.device);
        t_calls++;
        Run(Pointer(x), k, m, Pointer(weight), n, bias is null ? null : Pointer(bias), Pointer(y), t_threads);
        GC.KeepAlive(x);   // their native memory was read through raw pointers
        GC.KeepAlive(weight);
        GC.KeepAlive(bias);
        return y;
    }

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
    }

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

    private static float* Pointer(Tensor t) => (float*)Native.THSTensor_data(t.Handle);

    private static class Native
    {
        /// <summary>The tensor's first element (storage offset applied); LibTorchSharp's export.</summary>
        [DllImport("LibTorchSharp")]
        internal static extern IntPtr THSTensor_data(IntPtr handle);
    }

    /// <summary>Native scratch memory of the calling (engine) thread: the padded input and the partial
    /// sums of depth slices. Grows to the largest call and is kept (a few MB at most).</summary>
    private static class Buffers
    {
        [ThreadStatic] private static Scratch? t_scratch;

        public static float* Input(int floats) => (t_scratch ??= new Scratch()).Get(0, floats);
        public static float* Partial(int part, int floats) => (t_scratch ??= new Scratch()).Get(part, floats);

        private sealed class Scratch
        {
            private readonly float*[] _memory = new float*[Environment.ProcessorCount + 1];
            private readonly int[] _sizes = new int[Environment.ProcessorCount + 1];

            // Slot 0 is the input; slot t ≥ 1 the partial sums of thread t.
            public float* Get(int slot, int floats)
            {
                if (_sizes[slot] < floats)
                {
                    NativeMemory.AlignedFree(_memory[slot]);
                    _memory[slot] = null;   // nothing dangling if the allocation fails
                    _sizes[slot] = 0;
                    _memory[slot] = (float*)NativeMemory.AlignedAlloc((nuint)floats * sizeof(float), 64);
                    _sizes[slot] = floats;
                }
                return _memory[slot];
            }

            ~Scratch()
            {
                foreach (var p in _memory) NativeMemory.AlignedFree(p);
            }
        }
    }

    /// <summary>Helper threads for the kernel: the caller runs part 0 and each helper one more part.
    /// Helpers spin briefly after a job (the next linear of the step follows within microseconds), then
    /// sleep until woken. One job at a time: a second engine in the process (tests run several) waits
    /// for the helpers instead of handing them a job over another's.</summary>
    private static class Workers
    {
        private static readonly object Gate = new();
        private static readonly List<Helper> Helpers = [];

        public static void Run(Job job)
        {
            if (job.Count == 1)
            {
                Compute(job, job.Parts[0]);
                return;
            }
            lock (Gate)
            {
                while (Helpers.Count < job.Count - 1) Helpers.Add(new Helper(Helpers.Count + 1));
                for (int t = 1; t < job.Count; t++) Helpers[t - 1].Start(job);
                Exception? error = null;
                try
                {
                    Compute(job, job.Parts[0]);
                }
                catch (Exception e)
                {
                    error = e;
                }
                // Every helper is waited for, whatever failed: none may still be writing when the call returns.
                for (int t = 1; t < job.Count; t++)
                {
                    var failed = Helpers[t - 1].Join();
                    error ??= failed;
                }
                if (error is not null) throw new InvalidOperationException("the few-row GEMM failed", error);
            }
        }

        private sealed class Helper
        {
            private readonly int _part;
            private readonly SemaphoreSlim _wake = new(0);
            private Job? _job;
            private int _posted, _done, _sleeping;
            private Exception? _error;

            public Helper(int part)
            {
                _part = part;
                new Thread(Loop) { IsBackground = true, Name = $"vqtoken-gemm-{part}" }.Start();
            }

            public void Start(Job job)
            {
                _job = job;
                Interlocked.Increment(ref _posted);   // full fences: the helper's "going to sleep" is seen here
                if (Volatile.Read(ref _sleeping) == 1) _wake.Release();
            }

            /// <summary>Waits for the posted job; returns its failure, if any.</summary>
            public Exception? Join()
            {
                var spin = new SpinWait();
                while (Volatile.Read(ref _done) != Volatile.Read(ref _posted)) spin.SpinOnce(sleep1Threshold: -1);
                var error = _error;
                _error = null;
                return error;
            }

            private void Loop()
            {
                int seen = 0;
                long spinTicks = Stopwatch.Frequency / 5000;   // 200 µs
                while (true)
                {
                    long idleSince = Stopwatch.GetTimestamp();
                    while (Volatile.Read(ref _posted) == seen)
                    {
                        if (Stopwatch.GetTimestamp() - idleSince < spinTicks)
                        {
                            Thread.SpinWait(16);
                            continue;
                        }
                        Interlocked.Exchange(ref _sleeping, 1);
                        if (Volatile.Read(ref _posted) == seen) _wake.Wait(50);
                        Interlocked.Exchange(ref _sleeping, 0);
                    }
                    seen = Volatile.Read(ref _posted);
                    try
                    {
                        var job = _job!;
                        Compute(job, job.Parts[_part]);
                    }
                    catch (Exception e)
                    {
                        _error = e;
                    }
                    Volatile.Write(ref _done, seen);
                }
            }
        }
    }
}
