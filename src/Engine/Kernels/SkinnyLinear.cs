using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using TorchSharp;
using static TorchSharp.torch;

namespace VQToken.Engine.Kernels;

/// <summary>y = x·Wᵀ (+ b) for a handful of rows — the sequences of one decode step — on CPU in float32,
/// with W stored column-major as <see cref="ColumnMajorLinear"/> keeps it ([in, out] contiguous).
/// <para>Why: with 2–16 rows the step must stream every weight once from memory, and its arithmetic is
/// small; libtorch's GEMM (MKL) reaches only ~60 GFLOP/s at 8 rows on this shape (its blocking is made for
/// tall matrices), so an 8-row step took ~1.8x a 1-row step. This kernel keeps the rows' partial sums of
/// a 32-column block in AVX-512 registers, walks the weight rows in chunks with software prefetch, and
/// splits the work over the engine's threads: an 8-row pass costs about what streaming the weights costs
/// (docs/BENCHMARKS.md).</para>
/// <para>Used only inside <see cref="Begin"/> on the thread that owns the tensors (the engine thread in a
/// batched decode step); everything else — one row, prefill, other devices and dtypes, CPUs without
/// AVX-512 — keeps libtorch's linear. The helper threads touch raw weight memory only, never TorchSharp.</para></summary>
internal static unsafe partial class SkinnyLinear
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

    /// <summary>Starts a region on this thread in which <see cref="ColumnMajorLinear"/>
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
    public static Region For(int rows, Tensor like) => For(rows, like.device_type, like.dtype);

    /// <summary>A region for a decode step of <paramref name="rows"/> sequences on a model of this device and
    /// dtype; with <paramref name="bf16Weights"/> (bf16-resident linears, <see cref="Bf16Linear"/>) one row too.</summary>
    public static Region For(int rows, DeviceType device, ScalarType dtype, bool bf16Weights = false) =>
        rows >= (bf16Weights ? 1 : MinRows) && rows <= MaxRows && device == DeviceType.CPU && dtype == ScalarType.Float32
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

    /// <summary>x·Wᵀ (+ b) through the kernel, or null when it does not apply (the caller uses libtorch).</summary>
    public static Tensor? TryForward(Tensor x, Tensor weight, Tensor? bias)
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
}
