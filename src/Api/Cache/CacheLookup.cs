namespace VQToken.Api.Cache;

/// <summary>The result of reading a cached entry: the entry on a hit, the reason when corrupt (or when a miss
/// has one, e.g. an entry of the previous format).</summary>
public sealed record CacheLookup(CacheLookupStatus Status, CacheEntry? Entry, string? Reason)
{
    public static readonly CacheLookup Miss = new(CacheLookupStatus.Miss, null, null);
    public static CacheLookup Hit(CacheEntry entry) => new(CacheLookupStatus.Hit, entry, null);
    public static CacheLookup Corrupt(string reason) => new(CacheLookupStatus.Corrupt, null, reason);
}
