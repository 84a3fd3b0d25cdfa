using System.Runtime.InteropServices;

namespace VQToken.Engine.Runtime;

/// <summary>Gives freed native heap memory back to the OS. glibc keeps freed KV-cache and activation
/// buffers in fragmented arenas, so without this the resident size creeps up under load although
/// no tensor is alive. Called by the engine thread when it goes idle.</summary>
internal static partial class NativeMemory
{
    [LibraryImport("libc", EntryPoint = "malloc_trim")]
    private static partial int MallocTrim(nuint pad);

    private static bool _unavailable = !OperatingSystem.IsLinux();

    public static void Trim()
    {
        if (_unavailable) return;
        try
        {
            MallocTrim(0);
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            _unavailable = true;   // not glibc (e.g. musl): nothing to trim
        }
    }
}
