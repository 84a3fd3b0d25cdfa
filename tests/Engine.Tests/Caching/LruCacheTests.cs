using VQToken.Engine.Caching;

namespace VQToken.Engine.Tests.Caching;

public class LruCacheTests
{
    [Fact]
    public void The_least_recently_used_value_is_evicted_first_and_handed_to_the_eviction_callback()
    {
        var evicted = new List<string>();
        using var cache = new LruCache<string>(2, evicted: evicted.Add);
        cache.TryAdd("a|1", "A");
        cache.TryAdd("b|1", "B");
        Assert.True(cache.TryGet("a|1", out _));   // a is now the most recent

        cache.TryAdd("c|1", "C");

        Assert.Equal(["B"], evicted);
        Assert.False(cache.TryGet("b|1", out _));
        Assert.True(cache.TryGet("a|1", out var a) && a == "A");
    }

    [Fact]
    public void Sizes_count_against_the_budget_and_a_value_larger_than_it_is_refused()
    {
        using var cache = new LruCache<byte[]>(10, sizeOf: v => v.Length);
        Assert.True(cache.TryAdd("a|1", new byte[6]));
        Assert.True(cache.TryAdd("b|1", new byte[4]));
        Assert.Equal(10, cache.Size);

        Assert.False(cache.TryAdd("c|1", new byte[11]));
        Assert.True(cache.TryAdd("d|1", new byte[5]));

        Assert.Equal((2, 9L), (cache.Count, cache.Size));   // a (6) went, b (4) stays
        Assert.False(cache.ContainsKey("a|1"));
        Assert.False(cache.TryAdd("d|1", new byte[1]));   // present: the caller keeps the new value
    }

    [Fact]
    public void Forgetting_a_video_drops_its_keys_only()
    {
        var evicted = new List<string>();
        using var cache = new LruCache<string>(10, evicted: evicted.Add);
        cache.TryAdd("v1|model|1", "a");
        cache.TryAdd("v1|model|2", "b");
        cache.TryAdd("v10|model|1", "c");

        cache.ForgetVideo("v1");

        Assert.Equal(["a", "b"], evicted.Order());
        Assert.True(cache.ContainsKey("v10|model|1"));
    }

    [Fact]
    public void A_zero_capacity_cache_holds_nothing_and_disposing_hands_back_every_value()
    {
        using (var none = new LruCache<string>(0)) Assert.False(none.TryAdd("a|1", "A"));

        var evicted = new List<string>();
        var cache = new LruCache<string>(3, evicted: evicted.Add);
        cache.TryAdd("a|1", "A");
        cache.TryAdd("b|1", "B");
        cache.Dispose();

        Assert.Equal(["A", "B"], evicted.Order());
        Assert.Equal(0, cache.Count);
    }
}
