using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using TorchSharp;
using static TorchSharp.torch;

namespace VQToken.Engine.Kernels;

/// <summary>The kernel's native scratch memory and helper threads.</summary>
internal static unsafe partial class SkinnyLinear
{
    private static class Native
    {
        /// <summary>The tensor's first element (storage offset applied); LibTorchSharp's export.</summary>
        [DllImport("LibTorchSharp")]
        internal static extern IntPtr THSTensor_data(IntPtr handle);
    }

    /// <summary>Native scratch memory of the calling (engine) thread: the padded input and the partial
    /// sums of depth slices (and <see cref="Bf16RowsKernel"/>'s packed rows). Grows to the largest call and is
    /// kept (a few MB at most).</summary>
    internal static class Buffers
    {
        // Slot 0 is the input; slot t ≥ 1 the partial sums of thread t.
        [ThreadStatic] private static NativeScratch? t_scratch;

        public static float* Input(int floats) => (t_scratch ??= new NativeScratch(Environment.ProcessorCount + 1)).Get(0, floats);
        public static float* Partial(int part, int floats) => (t_scratch ??= new NativeScratch(Environment.ProcessorCount + 1)).Get(part, floats);
    }

    /// <summary>Helper threads for the kernel: the caller runs part 0 and each helper one more part.
    /// Helpers spin briefly after a job (the next linear of the step follows within microseconds), then
    /// sleep until woken. A part is claimed by whoever reaches it first: the caller, done with its own,
    /// runs the parts no helper has started, so a helper waiting for a core (busy neighbours) never holds
    /// the step up. One job at a time: a second engine in the process (tests run several) waits for the
    /// helpers instead of handing them a job over another's.</summary>
    private static class Workers
    {
        private static readonly object Gate = new();
        private static readonly List<Helper> Helpers = [];

        public static void Run(Job job)
        {
            if (job.Count == 1)
            {
                Execute(job, 0);
                return;
            }
            lock (Gate)
            {
                while (Helpers.Count < job.Count - 1) Helpers.Add(new Helper(Helpers.Count + 1));
                job.Claims = new int[job.Count];
                job.Errors = new Exception?[job.Count];
                for (int t = 1; t < job.Count; t++) Helpers[t - 1].Start(job);
                Exception? error = null;
                try
                {
                    Execute(job, 0);
                }
                catch (Exception e)
                {
                    error = e;
                }
                for (int t = 1; t < job.Count; t++)
                {
                    if (TryClaim(job, t)) Finish(job, t);
                }
                // Every claimed part is waited for, whatever failed: none may still be writing when the call returns.
                // Spinning and yielding, never sleeping: SpinWait's default Sleep(1) cost a whole millisecond
                // whenever a helper finished a few microseconds after the caller.
                for (int t = 1; t < job.Count; t++)
                {
                    var spin = new SpinWait();
                    while (Volatile.Read(ref job.Claims![t]) != Done) spin.SpinOnce(sleep1Threshold: -1);
                    error ??= job.Errors![t];
                }
                if (error is not null) throw new InvalidOperationException("the few-row GEMM failed", error);
            }
        }

        private const int Free = 0, Claimed = 1, Done = 2;

        private static bool TryClaim(Job job, int part) => Interlocked.CompareExchange(ref job.Claims![part], Claimed, Free) == Free;

        /// <summary>Runs a claimed part and publishes its outcome (the outputs are visible once Done is).</summary>
        private static void Finish(Job job, int part)
        {
            try
            {
                Execute(job, part);
            }
            catch (Exception e)
            {
                job.Errors![part] = e;
            }
            Volatile.Write(ref job.Claims![part], Done);
        }

        private sealed class Helper
        {
            private readonly int _part;
            private readonly SemaphoreSlim _wake = new(0);
            private Job? _job;
            private int _posted, _sleeping;

            public Helper(int part)
            {
                _part = part;
                new Thread(Loop) { IsBackground = true, Name = $"vqtoken-gemm-{part}" }.Start();
            }

            public void Start(Job job)
            {
                Volatile.Write(ref _job, job);
                Interlocked.Increment(ref _posted);   // full fences: the helper's "going to sleep" is seen here
                if (Volatile.Read(ref _sleeping) == 1) _wake.Release();
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
                    seen = Volatile.Read(ref _posted);   // before the job: a later post is never missed
                    var job = Volatile.Read(ref _job)!;
                    if (TryClaim(job, _part)) Finish(job, _part);
                }
            }
        }
    }
}
