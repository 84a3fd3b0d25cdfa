using VQToken.Api.Cache;
using VQToken.Api.Videos;

using static VQToken.Api.Tests.Storage.TestVideos;

namespace VQToken.Api.Tests.Storage;

[Collection(StorageCollection.Name)]
public sealed class CompressedCacheContractTests(RedisServerFixture redis) : StorageContractTestBase(redis)
{
    [Theory, MemberData(nameof(Kinds))]
    public async Task Entry_round_trips_through_the_cache(string kind)
    {
        await using var backend = await OpenAsync(kind);
        var id = VideoId.New(Epoch);
        var vqtoken = Entry(k: 300, dim: 4, frames: 2, grid: 27);
        var full = FullEntry(fingerprint: "model-b");

        await backend.Cache.PutAsync(id, vqtoken);
        await backend.Cache.PutAsync(id, full);

        var hitVQToken = await backend.Cache.GetAsync(id, "model-a");
        var hitFull = await backend.Cache.GetAsync(id, "model-b");
        Assert.Equal(CacheLookupStatus.Hit, hitVQToken.Status);
        AssertSameEntry(vqtoken, hitVQToken.Entry);
        AssertSameEntry(full, hitFull.Entry);
    }

    [Theory, MemberData(nameof(Kinds))]
    public async Task Entry_of_another_model_or_video_is_a_miss(string kind)
    {
        await using var backend = await OpenAsync(kind);
        var id = VideoId.New(Epoch);
        await backend.Cache.PutAsync(id, Entry());

        Assert.Equal(CacheLookupStatus.Miss, (await backend.Cache.GetAsync(id, "model-z")).Status);
        Assert.Equal(CacheLookupStatus.Miss, (await backend.Cache.GetAsync(VideoId.New(Epoch), "model-a")).Status);
    }

    [Theory, MemberData(nameof(Kinds))]
    public async Task Corrupted_entry_is_reported_as_corrupt_and_never_returned_as_data(string kind)
    {
        await using var backend = await OpenAsync(kind);
        var id = VideoId.New(Epoch);
        await backend.Cache.PutAsync(id, Entry());

        // One bit flipped in the data (the codebook floats: 128 bytes, then the 36-byte index map).
        await backend.DamageEntryAsync(id, "model-a", bytes => { bytes[^100] ^= 0x10; return bytes; });
        var lookup = await backend.Cache.GetAsync(id, "model-a");

        Assert.Equal(CacheLookupStatus.Corrupt, lookup.Status);
        Assert.Null(lookup.Entry);
        Assert.Contains("checksum", lookup.Reason);
        Assert.True(await backend.Cache.DeleteAsync(id, "model-a"));
        Assert.Equal(CacheLookupStatus.Miss, (await backend.Cache.GetAsync(id, "model-a")).Status);
    }

    [Theory, MemberData(nameof(Kinds))]
    public async Task Truncated_entry_is_reported_as_corrupt(string kind)
    {
        await using var backend = await OpenAsync(kind);
        var id = VideoId.New(Epoch);
        await backend.Cache.PutAsync(id, Entry());

        await backend.DamageEntryAsync(id, "model-a", bytes => bytes[..(bytes.Length - 100)]);

        Assert.Equal(CacheLookupStatus.Corrupt, (await backend.Cache.GetAsync(id, "model-a")).Status);
    }

    [Theory, MemberData(nameof(Kinds))]
    public async Task Entry_of_the_previous_format_is_a_miss_never_read(string kind)
    {
        await using var backend = await OpenAsync(kind);
        var id = VideoId.New(Epoch);
        await backend.Cache.PutAsync(id, Entry());

        await backend.DamageEntryAsync(id, "model-a", _ => PreviousCacheFormat.Write(Entry()));
        var lookup = await backend.Cache.GetAsync(id, "model-a");

        Assert.Equal(CacheLookupStatus.Miss, lookup.Status);
        Assert.Null(lookup.Entry);
        Assert.Contains("previous cache format", lookup.Reason);
    }

    [Theory, MemberData(nameof(Kinds))]
    public async Task Delete_all_removes_every_models_entry_of_a_video(string kind)
    {
        await using var backend = await OpenAsync(kind);
        var id = VideoId.New(Epoch);
        var other = VideoId.New(Epoch);
        await backend.Cache.PutAsync(id, Entry("model-a"));
        await backend.Cache.PutAsync(id, Entry("model-b"));
        await backend.Cache.PutAsync(other, Entry("model-a"));

        Assert.Equal(2, await backend.Cache.DeleteAllAsync(id));

        Assert.Equal(CacheLookupStatus.Miss, (await backend.Cache.GetAsync(id, "model-b")).Status);
        Assert.Equal(CacheLookupStatus.Hit, (await backend.Cache.GetAsync(other, "model-a")).Status);
        Assert.Equal([other], (await backend.Cache.ListAsync()).Select(i => i.VideoId));
    }

    [Theory, MemberData(nameof(Kinds))]
    public async Task Full_mode_entry_without_its_tokens_is_refused(string kind)
    {
        await using var backend = await OpenAsync(kind);
        var full = FullEntry();
        var broken = full with { Encoding = full.Encoding with { FullTokens = null } };

        await Assert.ThrowsAsync<ArgumentException>(() => backend.Cache.PutAsync(VideoId.New(Epoch), broken));
    }
}
