using System.Security.Cryptography;
using VQToken.Api.Cache;
using VQToken.Api.Videos;
using static VQToken.Api.Tests.Storage.TestVideos;

namespace VQToken.Api.Tests.Storage;

[Collection(StorageCollection.Name)]
public sealed class SourceStoreAndEvictionContractTests(RedisServerFixture redis) : StorageContractTestBase(redis)
{
    private const int SourceBytes = 20_000;

    [Theory, MemberData(nameof(Kinds))]
    public async Task Staged_upload_is_hashed_and_committed_as_the_videos_source(string kind)
    {
        await using var backend = await OpenAsync(kind);
        var content = RandomNumberGenerator.GetBytes(SourceBytes);
        var id = VideoId.New(Epoch);

        var staged = await backend.Sources.StageAsync(new MemoryStream(content));
        await backend.Sources.CommitAsync(staged, id);

        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(content)), staged.Sha256);
        Assert.Equal(SourceBytes, staged.Bytes);
        Assert.Equal(content, await File.ReadAllBytesAsync((await backend.Sources.GetPathAsync(id))!));
        Assert.False(File.Exists(staged.Path));
    }

    [Theory, MemberData(nameof(Kinds))]
    public async Task Discarded_duplicate_upload_leaves_nothing_behind(string kind)
    {
        await using var backend = await OpenAsync(kind);

        var staged = await backend.Sources.StageAsync(new MemoryStream(new byte[100]));
        await backend.Sources.DiscardAsync(staged);

        Assert.False(File.Exists(staged.Path));
        Assert.Empty(await backend.Sources.ListAsync());
    }

    [Theory, MemberData(nameof(Kinds))]
    public async Task Over_the_bound_a_cached_videos_source_is_evicted_and_the_video_stays_askable(string kind)
    {
        await using var backend = await OpenAsync(kind);
        var ready = await CreateInStatusAsync(backend.Videos, VideoStatus.Ready, content: "ready");
        var queued = await CreateInStatusAsync(backend.Videos, VideoStatus.Queued, content: "queued", minute: 1);
        await StoreSourceAsync(backend, ready.Id);
        await backend.Cache.PutAsync(ready.Id, Entry());
        await StoreSourceAsync(backend, queued.Id);

        var report = await backend.Evictor(maxBytes: 1).EnforceAsync();

        Assert.Equal((1, 0), (report.SourcesEvicted, report.EntriesEvicted));
        Assert.Null(await backend.Sources.GetPathAsync(ready.Id));
        Assert.Equal(CacheLookupStatus.Hit, (await backend.Cache.GetAsync(ready.Id, "model-a")).Status);
        Assert.NotNull(await backend.Videos.GetAsync(ready.Id));
        // Not processed yet: its source is its only copy.
        Assert.NotNull(await backend.Sources.GetPathAsync(queued.Id));
        Assert.True(report.BytesAfter > 1);
    }

    [Theory, MemberData(nameof(Kinds))]
    public async Task Least_recently_used_source_goes_first(string kind)
    {
        await using var backend = await OpenAsync(kind);
        var a = VideoId.New(Epoch);
        var b = VideoId.New(Epoch);
        foreach (var id in new[] { a, b })
        {
            await StoreSourceAsync(backend, id);
            await backend.Cache.PutAsync(id, Entry());
        }
        backend.Time.Advance(TimeSpan.FromMinutes(1));
        await backend.Sources.GetPathAsync(a);
        await backend.Cache.GetAsync(a, "model-a");
        long total = await TotalBytesAsync(backend);

        var report = await backend.Evictor(maxBytes: total - 1).EnforceAsync();

        Assert.Equal((1, 0), (report.SourcesEvicted, report.EntriesEvicted));
        Assert.Null(await backend.Sources.GetPathAsync(b));
        Assert.NotNull(await backend.Sources.GetPathAsync(a));
    }

    [Theory, MemberData(nameof(Kinds))]
    public async Task Least_recently_used_entry_is_evicted_while_its_source_can_recompute_it(string kind)
    {
        await using var backend = await OpenAsync(kind);
        var id = VideoId.New(Epoch);
        await backend.Cache.PutAsync(id, Entry());
        await StoreSourceAsync(backend, id);
        backend.Time.Advance(TimeSpan.FromMinutes(1));
        await backend.Sources.GetPathAsync(id);
        long total = await TotalBytesAsync(backend);

        var report = await backend.Evictor(maxBytes: total - 1).EnforceAsync();

        Assert.Equal((0, 1), (report.SourcesEvicted, report.EntriesEvicted));
        Assert.Equal(CacheLookupStatus.Miss, (await backend.Cache.GetAsync(id, "model-a")).Status);
        Assert.NotNull(await backend.Sources.GetPathAsync(id));
    }

    [Theory, MemberData(nameof(Kinds))]
    public async Task Under_the_bound_nothing_is_evicted(string kind)
    {
        await using var backend = await OpenAsync(kind);
        var id = VideoId.New(Epoch);
        await StoreSourceAsync(backend, id);
        await backend.Cache.PutAsync(id, Entry());

        var report = await backend.Evictor(maxBytes: await TotalBytesAsync(backend)).EnforceAsync();

        Assert.Equal((0, 0), (report.SourcesEvicted, report.EntriesEvicted));
    }

    [Theory, MemberData(nameof(Kinds))]
    public async Task Orphan_sweep_removes_sources_and_entries_without_a_record_and_stale_staged_files_only(string kind)
    {
        await using var backend = await OpenAsync(kind);
        var kept = await CreateInStatusAsync(backend.Videos, VideoStatus.Ready, content: "kept");
        await StoreSourceAsync(backend, kept.Id);
        await backend.Cache.PutAsync(kept.Id, Entry());
        var deleted = await CreateInStatusAsync(backend.Videos, VideoStatus.Ready, content: "deleted", minute: 1);
        await StoreSourceAsync(backend, deleted.Id);
        await backend.Cache.PutAsync(deleted.Id, Entry());
        Assert.True(await backend.Videos.DeleteAsync(deleted.Id));   // as a DELETE that lost a race: source and entry left
        var staleStaged = await backend.Sources.StageAsync(new MemoryStream(new byte[100]));
        var freshStaged = await backend.Sources.StageAsync(new MemoryStream(new byte[100]));
        File.SetLastWriteTimeUtc(staleStaged.Path, (backend.Time.GetUtcNow() - TimeSpan.FromHours(2)).UtcDateTime);
        File.SetLastWriteTimeUtc(freshStaged.Path, (backend.Time.GetUtcNow() - TimeSpan.FromMinutes(30)).UtcDateTime);

        var report = await backend.Evictor(maxBytes: long.MaxValue, stagingMaxAge: TimeSpan.FromHours(1)).SweepOrphansAsync();

        Assert.Equal(new OrphanReport(1, 1, 1), report);
        Assert.Null(await backend.Sources.GetPathAsync(deleted.Id));
        Assert.Equal(CacheLookupStatus.Miss, (await backend.Cache.GetAsync(deleted.Id, "model-a")).Status);
        Assert.NotNull(await backend.Sources.GetPathAsync(kept.Id));
        Assert.Equal(CacheLookupStatus.Hit, (await backend.Cache.GetAsync(kept.Id, "model-a")).Status);
        Assert.False(File.Exists(staleStaged.Path));
        Assert.True(File.Exists(freshStaged.Path));
    }

    private static async Task StoreSourceAsync(StorageBackend backend, string videoId)
    {
        var staged = await backend.Sources.StageAsync(new MemoryStream(RandomNumberGenerator.GetBytes(SourceBytes)));
        await backend.Sources.CommitAsync(staged, videoId);
    }

    private static async Task<long> TotalBytesAsync(StorageBackend backend) =>
        (await backend.Sources.ListAsync()).Sum(i => i.Bytes) + (await backend.Cache.ListAsync()).Sum(i => i.Bytes);
}
