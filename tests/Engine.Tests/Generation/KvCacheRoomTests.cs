using VQToken.Engine.Execution;
using VQToken.Engine.Generation;
using static TorchSharp.torch;

namespace VQToken.Engine.Tests.Generation;

/// <summary>A stored prompt prefix holds exactly its positions (spare room there is memory no ask uses, times every
/// cached video); an ask's copy of it has room for its question and answer, so it never regrows by doubling.</summary>
public sealed class KvCacheRoomTests
{
    private const int Layers = 2, KvHeads = 2, HeadDim = 4;
    private const long BytesPerPosition = Layers * 2L * KvHeads * HeadDim * sizeof(float);   // keys and values

    /// <summary>A cache of <paramref name="keys"/>.Count layers holding those keys (values alike).</summary>
    private static KvCache Prefix(IReadOnlyList<Tensor> keys)
    {
        var cache = new KvCache(keys.Count, KvHeads, HeadDim, ScalarType.Float32, CPU);
        for (int layer = 0; layer < keys.Count; layer++) cache.Append(layer, keys[layer], keys[layer]);
        cache.Advance(keys[0].shape[2]);
        return cache;
    }

    [Fact]
    public void The_prefix_cache_stores_exact_size_copies_and_hands_asks_the_room_they_ask_for()
    {
        using var scope = NewDisposeScope();
        using var generator = new Generator(7);
        var keys = Enumerable.Range(0, Layers).Select(_ => randn([1, KvHeads, 10, HeadDim], generator: generator)).ToList();
        using var prefix = Prefix(keys);
        using var cache = new PrefixCache(1L << 20);
        cache.Put("video|prompt", prefix);
        Assert.Equal(10 * BytesPerPosition, cache.Bytes);

        using var ask = cache.TryClone("video|prompt", room: 70)!;
        Assert.Equal(10, ask.Length);
        Assert.Equal(80 * BytesPerPosition, ask.Bytes);
        for (int layer = 0; layer < Layers; layer++)
        {
            var (extended, _) = ask.Append(layer, ones([1, KvHeads, 70, HeadDim]), ones([1, KvHeads, 70, HeadDim]));
            Assert.True(extended.narrow(2, 0, 10).allclose(keys[layer], rtol: 0, atol: 0));   // the prefix's values, copied
        }
        ask.Advance(70);
        Assert.Equal(80 * BytesPerPosition, ask.Bytes);   // the question and answer fit: no regrowth
    }
}
