using VQToken.Api.Storage;
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
        var fp32 = Entry(precision: FloatPrecision.Float32);
        var fp16 = Entry(fingerprint: "model-b", k: 300, dim: 4, precision: FloatPrecision.Float16, withTokens: false);

        await backend.Cache.PutAsync(id, fp32);
        await backend.Cache.PutAsync(id, fp16);

        var hit32 = await backend.Cache.GetAsync(id, "model-a");
        var hit16 = await backend.Cache.GetAsync(id, "model-b");
        Assert.Equal(CacheLookupStatus.Hit, hit32.Status);
        AssertSameEntry(fp32, hit32.Entry);
        AssertSameEntry(fp16, hit16.Entry);
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

        // One bit flipped in the middle of the payload (the codebook floats).
        await backend.DamageEntryAsync(id, "model-a", bytes => { bytes[bytes.Length / 2] ^= 0x10; return bytes; });
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
    public async Task Entry_whose_arrays_disagree_with_its_shapes_is_refused(string kind)
    {
        await using var backend = await OpenAsync(kind);
        var broken = Entry() with { IndexMap = [0, 1, 2] };

        await Assert.ThrowsAsync<ArgumentException>(() => backend.Cache.PutAsync(VideoId.New(Epoch), broken));
    }
}
