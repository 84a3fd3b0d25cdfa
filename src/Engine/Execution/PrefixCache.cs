using VQToken.Engine.Generation;

namespace VQToken.Engine.Execution;

/// <summary>KV caches of shared prompt prefixes (system prompt + a video's visual tokens), kept per
/// key with least-recently-used eviction under a byte budget. Engine-thread only.</summary>
internal sealed class PrefixCache(long maxBytes) : IDisposable
{
    private readonly LinkedList<(string Key, KvCache Cache, long Bytes)> _lru = new();
    private readonly Dictionary<string, LinkedListNode<(string Key, KvCache Cache, long Bytes)>> _index = new(StringComparer.Ordinal);

    public long Bytes { get; private set; }
    public int Count => _index.Count;
    public bool Enabled => maxBytes > 0;

    /// <summary>A private copy of the cached prefix (the caller extends and disposes it).</summary>
    public KvCache? TryClone(string key)
    {
        if (!_index.TryGetValue(key, out var node)) return null;
        _lru.Remove(node);
        _lru.AddFirst(node);
        return node.Value.Cache.Clone();
    }

    /// <summary>Stores a copy of <paramref name="prefix"/> (when it fits the budget at all).</summary>
    public void Put(string key, KvCache prefix)
    {
        if (!Enabled || _index.ContainsKey(key)) return;
        var copy = prefix.Clone();
        long bytes = copy.Bytes;
        if (bytes > maxBytes)
        {
            copy.Dispose();
            return;
        }
        while (Bytes + bytes > maxBytes && _lru.Last is { } last) Remove(last);
        _index[key] = _lru.AddFirst((key, copy, bytes));
        Bytes += bytes;
    }

    /// <summary>Drops every prefix whose key starts with <paramref name="videoKey"/> + '|'.</summary>
    public void Forget(string videoKey)
    {
        foreach (var node in _index.Values.Where(n => n.Value.Key.StartsWith(videoKey + "|", StringComparison.Ordinal)).ToList())
            Remove(node);
    }

    private void Remove(LinkedListNode<(string Key, KvCache Cache, long Bytes)> node)
    {
        _lru.Remove(node);
        _index.Remove(node.Value.Key);
        Bytes -= node.Value.Bytes;
        node.Value.Cache.Dispose();
    }

    public void Dispose()
    {
        while (_lru.Last is { } last) Remove(last);
    }
}
