using VQToken.Api.Processing;

namespace VQToken.Api.Cache;

/// <summary>What <see cref="CachedVideoResolver"/> found: the entry when ready, else why not.</summary>
public sealed record CachedVideo(CachedVideoOutcome Outcome, CacheEntry? Entry, string? Reason);
