using System.Runtime.InteropServices;

namespace VQToken.Engine.Runtime;

/// <summary>Gives freed native heap memory back to the OS. glibc keeps freed chunks below its mmap
/// threshold (which grows up to 32 MB) in its arenas, so after a vision batch or a long prefill about
/// a gigabyte of activation memory stayed resident and the next stage's temporaries came on top.</summary>
internal static class HeapTrim
{
    [DllImport("libc", EntryPoint = "malloc_trim")]
    private static extern int MallocTrim(nuint pad);

    private static bool _unavailable = !OperatingSystem.IsLinux();

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
