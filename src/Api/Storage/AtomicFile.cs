using System.Runtime.InteropServices;

namespace VQToken.Api.Storage;

/// <summary>Crash-safe file replacement: write a temp file in the same directory, fsync it, rename
/// it over the target, fsync the directory. A reader sees the old file or the new one, never half.</summary>
public static partial class AtomicFile
{
    public const string TempMarker = ".tmp-";

    public static void WriteAllBytes(string path, ReadOnlySpan<byte> bytes)
    {
        var directory = Path.GetDirectoryName(Path.GetFullPath(path))!;
        Directory.CreateDirectory(directory);
        var temp = TempPathFor(path);
        try
        {
            using (var file = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None))
            {
                file.Write(bytes);
                file.Flush(flushToDisk: true);
            }
            File.Move(temp, path, overwrite: true);
            SyncDirectory(directory);
        }
        finally
        {
            if (File.Exists(temp)) File.Delete(temp);
        }
    }

    /// <summary>Renames an already-written, fsynced file into place and fsyncs the directory.</summary>
    public static void MoveIntoPlace(string source, string path)
    {
        var directory = Path.GetDirectoryName(Path.GetFullPath(path))!;
        Directory.CreateDirectory(directory);
        File.Move(source, path, overwrite: true);
        SyncDirectory(directory);
    }

    public static string TempPathFor(string path) => path + TempMarker + Guid.NewGuid().ToString("N")[..12];

    /// <summary>Makes a rename durable: on Linux the new directory entry is only on disk after the
    /// directory itself is fsynced (.NET has no API for it).</summary>
    public static void SyncDirectory(string directory)
    {
        if (!OperatingSystem.IsLinux() && !OperatingSystem.IsMacOS()) return;
        int fd = Open(directory, 0 /* O_RDONLY */);
        if (fd < 0) return; // best effort: the data itself was fsynced
        try { _ = Fsync(fd); }
        finally { _ = Close(fd); }
    }

    [LibraryImport("libc", EntryPoint = "open", StringMarshalling = StringMarshalling.Utf8)]
    private static partial int Open(string path, int flags);

    [LibraryImport("libc", EntryPoint = "fsync")]
    private static partial int Fsync(int fd);

    [LibraryImport("libc", EntryPoint = "close")]
    private static partial int Close(int fd);
}
