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

    private const int ArenaMaxParam = -8;   // M_ARENA_MAX

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
    public static bool ShouldLimitArenas(string? arenaMax, string? tunables) =>
        string.IsNullOrWhiteSpace(arenaMax) && tunables?.Contains("glibc.malloc.arena_max", StringComparison.Ordinal) != true;

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
