namespace VQToken.Engine.Caching;

/// <summary>Least-recently-used values by string key under a size budget (each value's size from
/// <paramref name="sizeOf"/>, 1 when not given); evicted or removed values go to <paramref name="evicted"/>
/// (e.g. to dispose native memory). Keys of one video start with its key and '|', so
/// <see cref="ForgetVideo"/> drops them all. Thread-safe.</summary>
public sealed class LruCache<TValue>(long capacity, Func<TValue, long>? sizeOf = null, Action<TValue>? evicted = null) : IDisposable
{
    private readonly LinkedList<(string Key, TValue Value, long Size)> _order = new();
    private readonly Dictionary<string, LinkedListNode<(string Key, TValue Value, long Size)>> _index = new(StringComparer.Ordinal);

    public bool Enabled => capacity > 0;

    /// <summary>Total size of the values held.</summary>
    public long Size { get { lock (_order) return _size; } }
    public int Count { get { lock (_order) return _index.Count; } }
    private long _size;

    public bool ContainsKey(string key)
    {
        lock (_order) return _index.ContainsKey(key);
    }

    /// <summary>The value, now the most recently used.</summary>
    public bool TryGet(string key, out TValue value)
    {
        lock (_order)
        {
            if (_index.TryGetValue(key, out var node))
            {
                _order.Remove(node);
                _order.AddFirst(node);
                value = node.Value.Value;
                return true;
            }
        }
        value = default!;
        return false;
    }

    /// <summary>Adds the value, evicting the least recently used until it fits. False (and the caller keeps the
    /// value) when the key is present or the value alone exceeds the capacity.</summary>
    public bool TryAdd(string key, TValue value)
    {
        long size = sizeOf?.Invoke(value) ?? 1;
        lock (_order)
        {
            if (size > capacity || _index.ContainsKey(key)) return false;
            while (_size + size > capacity && _order.Last is { } last) Remove(last);
            _index[key] = _order.AddFirst((key, value, size));
            _size += size;
            return true;
        }
    }

    /// <summary>Drops every value whose key starts with <paramref name="videoKey"/> + '|'.</summary>
    public void ForgetVideo(string videoKey)
    {
        string prefix = videoKey + "|";
        lock (_order)
        {
            foreach (var node in _index.Values.Where(n => n.Value.Key.StartsWith(prefix, StringComparison.Ordinal)).ToList())
                Remove(node);
        }
    }

    private void Remove(LinkedListNode<(string Key, TValue Value, long Size)> node)
    {
        _order.Remove(node);
        _index.Remove(node.Value.Key);
        _size -= node.Value.Size;
        evicted?.Invoke(node.Value.Value);
    }

    public void Dispose()
    {
        lock (_order)
        {
            while (_order.Last is { } last) Remove(last);
        }
    }
}
