namespace VQToken.Api.Cache;

/// <summary>Compressed representations by (video id, model fingerprint), integrity-checked on read.</summary>
public interface ICompressedCache
{
    /// <summary>Hit, miss, or corrupt (with the reason); a corrupt entry is never returned as data
    /// and is left in place for the caller to log and delete. A hit counts as a use for LRU.</summary>
    Task<CacheLookup> GetAsync(string videoId, string modelFingerprint, CancellationToken cancellationToken = default);

    /// <summary>Stores (or replaces) the entry for its <see cref="CacheEntry.ModelFingerprint"/>; atomic.</summary>
    Task PutAsync(string videoId, CacheEntry entry, CancellationToken cancellationToken = default);

    Task<bool> DeleteAsync(string videoId, string modelFingerprint, CancellationToken cancellationToken = default);

    /// <summary>Removes the video's entries for every model; returns how many.</summary>
    Task<int> DeleteAllAsync(string videoId, CancellationToken cancellationToken = default);

    /// <summary>Every entry with its size and last use, for eviction.</summary>
    Task<IReadOnlyList<StoredItem>> ListAsync(CancellationToken cancellationToken = default);
}
