namespace VQToken.Ingestion;

/// <summary>The directory where uploads and downloads land while they are checked and sampled. Every file
/// is owned by exactly one <see cref="IngestedVideo"/> or deleted on the failure path.</summary>
public sealed class TempVideoStore
{
    public TempVideoStore(string? root = null)
    {
        Root = Path.GetFullPath(string.IsNullOrWhiteSpace(root) ? Path.Combine(Path.GetTempPath(), "vqtoken-ingest") : root);
        if (OperatingSystem.IsWindows()) Directory.CreateDirectory(Root);
        else Directory.CreateDirectory(Root, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
    }

    public string Root { get; }

    /// <summary>A fresh path in the store, with no extension: nothing downstream may trust a name.</summary>
    public string NewPath() => Path.Combine(Root, Guid.NewGuid().ToString("N") + ".video");

    /// <summary>Streams <paramref name="content"/> to a new file (SHA-256 and byte limit on the way), then
    /// sniffs it with <paramref name="probe"/>. On any failure the file is gone before the error leaves.</summary>
    public async Task<IngestedVideo> IngestAsync(Stream content, long maxBytes, VideoProbe probe, CancellationToken cancellationToken)
    {
        var path = NewPath();
        try
        {
            var (bytes, sha256) = await Sha256FileWriter.WriteAsync(content, path, maxBytes, cancellationToken);
            var info = await probe.ProbeAsync(path, cancellationToken);
            return new IngestedVideo(path, sha256, bytes, info);
        }
        catch
        {
            TryDelete(path);
            throw;
        }
    }

    internal static void TryDelete(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (IOException)
        {
            // still open somewhere; nothing else to do
        }
        catch (UnauthorizedAccessException)
        {
        }
    }
}
