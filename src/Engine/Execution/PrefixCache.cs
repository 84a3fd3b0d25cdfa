using VQToken.Engine.Caching;
using VQToken.Engine.Generation;

namespace VQToken.Engine.Execution;

/// <summary>KV caches of shared prompt prefixes (system prompt + a video's visual tokens), kept per
/// key with least-recently-used eviction under a byte budget (the one <see cref="LruCache{TValue}"/>).
/// Engine-thread only.</summary>
internal sealed class PrefixCache(long maxBytes) : IDisposable
{
    private readonly LruCache<KvCache> _lru = new(maxBytes, c => c.Bytes, c => c.Dispose());

    public long Bytes => _lru.Size;
    public int Count => _lru.Count;
    public bool Enabled => _lru.Enabled;

    /// <summary>A private copy of the cached prefix with room for <paramref name="room"/> more positions (the caller
    /// extends and disposes it).</summary>
    public KvCache? TryClone(string key, long room) => _lru.TryGet(key, out var cache) ? cache.Clone(room: room) : null;

    /// <summary>Stores an exact-size copy of <paramref name="prefix"/> (when it fits the budget at all): spare room
    /// in a stored prefix would only hold memory and crowd other prefixes out of the budget.</summary>
    public void Put(string key, KvCache prefix)
    {
        if (!Enabled || _lru.ContainsKey(key)) return;
        var copy = prefix.Clone(room: 0);
        if (!_lru.TryAdd(key, copy)) copy.Dispose();
    }

    /// <summary>Drops every prefix whose key starts with <paramref name="videoKey"/> + '|'.</summary>
    public void Forget(string videoKey) => _lru.ForgetVideo(videoKey);

    public void Dispose() => _lru.Dispose();
}
