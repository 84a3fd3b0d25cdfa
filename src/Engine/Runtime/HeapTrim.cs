using System.Runtime.InteropServices;

namespace VQToken.Engine.Runtime;

/// <summary>Gives freed native heap memory back to the OS. glibc keeps freed chunks below its mmap
/// threshold (which grows up to 32 MB) in its arenas, so after a vision batch or a long prefill about
/// a gigabyte of activation memory stayed resident and the next stage's temporaries came on top.</summary>
public static class HeapTrim
{
    [DllImport("libc", EntryPoint = "malloc_trim")]
    private static extern int MallocTrim(nuint pad);

    [DllImport("libc", EntryPoint = "mallopt")]
    private static extern int MallOpt(int param, int value);

    private const int ArenaMaxParam = -8, TrimThresholdParam = -1, TopPadParam = -2, MmapThresholdParam = -3;   // M_ARENA_MAX, M_TRIM_THRESHOLD, M_TOP_PAD, M_MMAP_THRESHOLD

    /// <summary>Allocations up to this size come from the arenas from the start (glibc's own dynamic threshold reaches
    /// this ceiling only after freeing such blocks); larger ones are mapped and unmapped as before.</summary>
    public const int MmapThreshold = 32 << 20;

    /// <summary>Free memory an arena keeps at its top between operations (and grows by): freed activations are reused
    /// by the next layer instead of being returned and faulted in again; the idle trim (<see cref="Release"/>) still
    /// returns them.</summary>
    public const int TrimThreshold = 128 << 20, TopPad = 16 << 20;

    /// <summary>glibc arenas the service allocates from (see <see cref="LimitArenas"/>).</summary>
    public const int Arenas = 2;

    private static bool _unavailable = !OperatingSystem.IsLinux();

    /// <summary>Caps glibc's malloc arenas at <see cref="Arenas"/> unless the operator set MALLOC_ARENA_MAX or
    /// glibc.malloc.arena_max in GLIBC_TUNABLES. By default each allocating thread (the engine's, libtorch's OpenMP workers, the kernel pool)
    /// can get its own arena, up to 8 per core, and each keeps its own freed tensor memory resident. Called first
    /// thing in Main (<see cref="ProcessStart.Prepare"/>), before those threads allocate. Returns whether the cap was set.</summary>
    public static bool LimitArenas()
    {
        if (_unavailable || !ShouldLimitArenas(Environment.GetEnvironmentVariable("MALLOC_ARENA_MAX"), Environment.GetEnvironmentVariable("GLIBC_TUNABLES")))
            return false;
        try
        {
            return MallOpt(ArenaMaxParam, Arenas) == 1;
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            _unavailable = true;   // not glibc
            return false;
        }
    }

    /// <summary>Whether to cap the arenas: not when the operator set the arena count.</summary>
    public static bool ShouldLimitArenas(string? arenaMax, string? tunables) => !OperatorSet(arenaMax, tunables, "glibc.malloc.arena_max");

    /// <summary>Sets the arenas' mmap threshold, trim threshold and top pad (<see cref="MmapThreshold"/>,
    /// <see cref="TrimThreshold"/>, <see cref="TopPad"/>) unless the operator set any of them: with glibc's defaults a
    /// long prefill returned its activation pages to the OS after each layer and faulted them in again (measured in
    /// docs/BENCHMARKS.md). Called with <see cref="LimitArenas"/>; returns whether set.</summary>
    public static bool KeepActivationPages()
    {
        if (_unavailable || !ShouldKeepActivationPages(Environment.GetEnvironmentVariable, Environment.GetEnvironmentVariable("GLIBC_TUNABLES")))
            return false;
        try
        {
            return MallOpt(MmapThresholdParam, MmapThreshold) == 1 & MallOpt(TrimThresholdParam, TrimThreshold) == 1 & MallOpt(TopPadParam, TopPad) == 1;
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            _unavailable = true;   // not glibc
            return false;
        }
    }

    /// <summary>Whether to set the thresholds: not when the operator set any of them (environment or tunables).</summary>
    public static bool ShouldKeepActivationPages(Func<string, string?> environment, string? tunables) =>
        !OperatorSet(environment("MALLOC_MMAP_THRESHOLD_"), tunables, "glibc.malloc.mmap_threshold")
        && !OperatorSet(environment("MALLOC_TRIM_THRESHOLD_"), tunables, "glibc.malloc.trim_threshold")
        && !OperatorSet(environment("MALLOC_TOP_PAD_"), tunables, "glibc.malloc.top_pad");

    private static bool OperatorSet(string? variable, string? tunables, string tunable) =>
        !string.IsNullOrWhiteSpace(variable) || tunables?.Contains(tunable, StringComparison.Ordinal) == true;

    /// <summary>malloc_trim(0): every arena's free pages back to the OS (a no-op off glibc).</summary>
    public static void Release()
    {
        if (_unavailable) return;
        try
        {
            MallocTrim(0);
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            _unavailable = true;   // not glibc (e.g. musl): nothing to trim this way
        }
    }
}
