using VQToken.Api.Cache;

namespace VQToken.Api.Videos;

/// <summary>Source videos as files (the engine hands a path to ffmpeg): on the local data directory,
/// or on a directory every replica mounts.</summary>
public interface ISourceStore
{
    /// <summary>Writes <paramref name="content"/> to the staging area, hashing it (SHA-256) as it goes.</summary>
    Task<StagedSource> StageAsync(Stream content, CancellationToken cancellationToken = default);

    /// <summary>Moves a staged file into place as the source of <paramref name="videoId"/> (atomic
    /// rename, fsynced); returns its path.</summary>
    Task<string> CommitAsync(StagedSource staged, string videoId, CancellationToken cancellationToken = default);

    Task DiscardAsync(StagedSource staged, CancellationToken cancellationToken = default);

    /// <summary>The source's path, or null when it was never stored or has been evicted. Counts as a
    /// use for LRU.</summary>
    Task<string?> GetPathAsync(string videoId, CancellationToken cancellationToken = default);

    Task<bool> DeleteAsync(string videoId, CancellationToken cancellationToken = default);

    /// <summary>Every stored source with its size and last use, for eviction.</summary>
    Task<IReadOnlyList<StoredItem>> ListAsync(CancellationToken cancellationToken = default);

    /// <summary>Removes staged files last written before <paramref name="cutoff"/>: left by a process that
    /// died between staging and committing. Returns how many.</summary>
    Task<int> DeleteStagedBeforeAsync(DateTimeOffset cutoff, CancellationToken cancellationToken = default);
}
