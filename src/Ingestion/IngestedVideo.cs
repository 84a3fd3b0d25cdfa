namespace VQToken.Ingestion;

/// <summary>A received or downloaded video in the temporary store, probed and within the limits.
/// Disposing it deletes the file: whoever holds it decides how long it lives.</summary>
public sealed class IngestedVideo(string path, string sha256, long sizeBytes, VideoInfo info) : IDisposable
{
    public string Path { get; } = path;
    /// <summary>SHA-256 of the bytes, lowercase hex: the content key of the video.</summary>
    public string Sha256 { get; } = sha256;
    public long SizeBytes { get; } = sizeBytes;
    public VideoInfo Info { get; } = info;

    public void Dispose() => TempVideoStore.TryDelete(Path);
}
