using static TorchSharp.torch;

namespace VQToken.Engine.Generation;

/// <summary>Key/value cache of one sequence: per layer, preallocated buffers
/// [1, kvHeads, capacity, headDim] that grow by doubling. A decode step writes one position per
/// layer; the prefix is never recomputed. Owns native memory: dispose it.</summary>
public sealed class KvCache : IDisposable
{
    private readonly Tensor?[] _keys, _values;
    private readonly long _kvHeads, _headDim;
    private readonly ScalarType _dtype;
    private readonly Device _device;
    private long _capacity;

    /// <summary>Positions already stored (the next token's position).</summary>
    public long Length { get; private set; }

    public KvCache(int layers, long kvHeads, long headDim, ScalarType dtype, Device device, long initialCapacity = 256)
    {
        _keys = new Tensor?[layers];
        _values = new Tensor?[layers];
        (_kvHeads, _headDim, _dtype, _device, _capacity) = (kvHeads, headDim, dtype, device, Math.Max(1, initialCapacity));
    }

    public int Layers => _keys.Length;

    /// <summary>When set, the attention also records the probabilities of each forward's last position here
    /// (evidence asks only; not part of <see cref="Clone"/>).</summary>
    public AttentionProbe? Probe { get; set; }

    /// <summary>Bytes held by the buffers.</summary>
    public long Bytes => _keys.Concat(_values).Sum(t => t is null ? 0 : t.NumberOfElements * t.ElementSize);

    /// <summary>Writes the new keys/values [1, kvHeads, n, headDim] of <paramref name="layer"/> at
    /// positions Length..Length+n-1 and returns views of all positions so far (0..Length+n-1).
    /// Call <see cref="Advance"/> once all layers have appended.</summary>
    public (Tensor Keys, Tensor Values) Append(int layer, Tensor keys, Tensor values)
    {
        long n = keys.shape[2];
        EnsureCapacity(layer, Length + n);
        _keys[layer]!.narrow(2, Length, n).copy_(keys);
        _values[layer]!.narrow(2, Length, n).copy_(values);
        return (_keys[layer]!.narrow(2, 0, Length + n), _values[layer]!.narrow(2, 0, Length + n));
    }

    public void Advance(long n) => Length += n;

    /// <summary>The whole buffers of <paramref name="layer"/> [1, kvHeads, capacity, headDim], grown to hold
    /// <paramref name="positions"/> (the fused decode step writes and reads them in place).</summary>
    internal (Tensor Keys, Tensor Values) Buffers(int layer, long positions)
    {
        EnsureCapacity(layer, positions);
        return (_keys[layer]!, _values[layer]!);
    }

    /// <summary>A copy of the first <paramref name="length"/> positions (for prefix caching), with room for
    /// <paramref name="room"/> more before it grows: a stored prefix needs none, an ask its question and answer.</summary>
    public KvCache Clone(long? length = null, long room = 64)
    {
        long len = length ?? Length;
        if (len > Length) throw new ArgumentOutOfRangeException(nameof(length));
        ArgumentOutOfRangeException.ThrowIfNegative(room);
        var copy = new KvCache(Layers, _kvHeads, _headDim, _dtype, _device, Math.Max(len + room, 1));
        for (int i = 0; i < Layers; i++)
        {
            if (_keys[i] is null) continue;
            copy.EnsureCapacity(i, len);
            copy._keys[i]!.narrow(2, 0, len).copy_(_keys[i]!.narrow(2, 0, len));
            copy._values[i]!.narrow(2, 0, len).copy_(_values[i]!.narrow(2, 0, len));
        }
        copy.Length = len;
        return copy;
    }

    private void EnsureCapacity(int layer, long needed)
    {
        if (_keys[layer] is not null && needed <= _keys[layer]!.shape[2]) return;
        while (_capacity < needed) _capacity *= 2;
        _keys[layer] = Grow(_keys[layer]);
        _values[layer] = Grow(_values[layer]);
    }

    private Tensor Grow(Tensor? old)
    {
        var fresh = zeros([1, _kvHeads, _capacity, _headDim], _dtype, _device).DetachFromDisposeScope();
        if (old is not null)
        {
            fresh.narrow(2, 0, Length).copy_(old.narrow(2, 0, Length));
            old.Dispose();
        }
        return fresh;
    }

    public void Dispose()
    {
        for (int i = 0; i < Layers; i++)
        {
            _keys[i]?.Dispose();
            _values[i]?.Dispose();
            _keys[i] = _values[i] = null;
        }
    }
}
