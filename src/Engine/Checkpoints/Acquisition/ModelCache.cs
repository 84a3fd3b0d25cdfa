using System.Text;

namespace VQToken.Engine.Checkpoints.Acquisition;

/// <summary>The download cache: one directory per repository and revision,
/// <c>{root}/{owner}--{name}/{revision}/</c>, holding the checkpoint files as the hub names them,
/// <c>*.partial</c> files while they download, and the <see cref="CacheManifest"/> once complete.</summary>
public sealed class ModelCache(string root)
{
    public const string LockFileName = ".vqtoken-download.lock";

    public string Root { get; } = root;

    public string DirectoryFor(string repo, string revision) =>
        Path.Combine(Root, Escape(repo.Replace("/", "--", StringComparison.Ordinal)), Escape(revision.Replace("/", "--", StringComparison.Ordinal)));

    /// <summary>The manifest when the directory holds a complete, intact-looking download; else null.</summary>
    public static CacheManifest? CompleteManifest(string directory)
    {
        var manifest = CacheManifest.TryRead(directory);
        return manifest is not null && manifest.MissingFiles(directory).Count == 0 ? manifest : null;
    }

    /// <summary>Takes the directory's download lock (an exclusive open of a lock file, which .NET backs
    /// with an advisory flock on Linux), so replicas sharing a cache volume download a model once: the
    /// others wait here and then find it complete.</summary>
    public static async Task<IDisposable> LockAsync(string directory, Action? waiting, CancellationToken cancellationToken)
    {
        Directory.CreateDirectory(directory);
        var path = Path.Combine(directory, LockFileName);
        bool told = false;
        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();
            try
            {
                return new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None, 1, FileOptions.None);
            }
            catch (IOException)
            {
                if (!told) waiting?.Invoke();
                told = true;
                await Task.Delay(TimeSpan.FromSeconds(1), cancellationToken);
            }
        }
    }

    private static string Escape(string segment)
    {
        var sb = new StringBuilder(segment.Length);
        foreach (var c in segment) sb.Append(char.IsAsciiLetterOrDigit(c) || c is '.' or '-' or '_' ? c : '_');
        return sb.ToString();
    }
}
