using System.Security.Cryptography;
using Microsoft.Extensions.Logging.Abstractions;
using VQToken.Api.Cache;
using VQToken.Api.Processing;
using VQToken.Api.Videos;
using static VQToken.Api.Tests.Storage.TestVideos;

namespace VQToken.Api.Tests.Storage;

[Collection(StorageCollection.Name)]
public sealed class CachedVideoResolverContractTests(RedisServerFixture redis) : StorageContractTestBase(redis)
{
    [Theory, MemberData(nameof(Kinds))]
    public async Task Intact_entry_is_returned(string kind)
    {
        await using var backend = await OpenAsync(kind);
        var (video, _) = await ReadyVideoAsync(backend, withSource: false);

        var resolved = await Resolver(backend).ResolveAsync(video, "model-a");

        Assert.Equal(CachedVideoOutcome.Ready, resolved.Outcome);
        AssertSameEntry(Entry(), resolved.Entry);
    }

    [Theory, MemberData(nameof(Kinds))]
    public async Task Corrupt_entry_with_a_stored_source_is_discarded_and_recomputed(string kind)
    {
        await using var backend = await OpenAsync(kind);
        var (video, queue) = await ReadyVideoAsync(backend, withSource: true);
        await backend.DamageEntryAsync(video.Id, "model-a", bytes => { bytes[^40] ^= 0xFF; return bytes; });

        var resolved = await Resolver(backend, queue).ResolveAsync(video, "model-a");

        Assert.Equal(CachedVideoOutcome.Recomputing, resolved.Outcome);
        Assert.Equal(CacheLookupStatus.Miss, (await backend.Cache.GetAsync(video.Id, "model-a")).Status);
        var record = await backend.Videos.GetAsync(video.Id);
        Assert.Equal(VideoStatus.Queued, record!.Status);
        Assert.Contains("corrupt", record.Reason);
        Assert.Equal(video.Id, (await queue.DequeueAsync(new CancellationTokenSource(TimeSpan.FromSeconds(30)).Token)).VideoId);
    }

    [Theory, MemberData(nameof(Kinds))]
    public async Task Corrupt_entry_without_a_source_fails_the_video_with_the_reason(string kind)
    {
        await using var backend = await OpenAsync(kind);
        var (video, _) = await ReadyVideoAsync(backend, withSource: false);
        await backend.DamageEntryAsync(video.Id, "model-a", bytes => bytes[..20]);

        var resolved = await Resolver(backend).ResolveAsync(video, "model-a");

        Assert.Equal(CachedVideoOutcome.Failed, resolved.Outcome);
        var record = await backend.Videos.GetAsync(video.Id);
        Assert.Equal(VideoStatus.Failed, record!.Status);
        Assert.Contains("corrupt", record.Reason);
        Assert.Contains("upload it again", record.Reason);
    }

    private static async Task<(VideoRecord Video, IJobQueue Queue)> ReadyVideoAsync(StorageBackend backend, bool withSource)
    {
        var video = await CreateInStatusAsync(backend.Videos, VideoStatus.Ready);
        await backend.Cache.PutAsync(video.Id, Entry());
        if (withSource)
        {
            var staged = await backend.Sources.StageAsync(new MemoryStream(RandomNumberGenerator.GetBytes(1000)));
            await backend.Sources.CommitAsync(staged, video.Id);
        }
        return (video, backend.Consumer("worker-1", TimeSpan.FromMinutes(10)));
    }

    private static CachedVideoResolver Resolver(StorageBackend backend, IJobQueue? queue = null) =>
        new(backend.Videos, backend.Cache, backend.Sources, queue ?? backend.Consumer("worker-1", TimeSpan.FromMinutes(10)), NullLogger<CachedVideoResolver>.Instance);
}
