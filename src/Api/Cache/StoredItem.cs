using VQToken.Api.Videos;

namespace VQToken.Api.Cache;

/// <summary>A stored source or cache entry as eviction sees it: its video, size and last use.
/// <see cref="Fingerprint"/> is the model fingerprint of a cache entry, null for a source.</summary>
public sealed record StoredItem(string VideoId, string? Fingerprint, long Bytes, DateTimeOffset LastUsed);
