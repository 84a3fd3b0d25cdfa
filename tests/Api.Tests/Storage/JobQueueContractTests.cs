using VQToken.Api.Videos;

using static VQToken.Api.Tests.Storage.TestVideos;

namespace VQToken.Api.Tests.Storage;

[Collection(StorageCollection.Name)]
public sealed class JobQueueContractTests(RedisServerFixture redis) : StorageContractTestBase(redis)
{
    private static readonly TimeSpan LongIdle = TimeSpan.FromMinutes(10);
    // Only a safety net against a hang: a passing run returns long before it.
    private static CancellationToken Patience => new CancellationTokenSource(TimeSpan.FromSeconds(30)).Token;

    [Theory, MemberData(nameof(Kinds))]
    public async Task Job_is_delivered_and_stays_outstanding_until_acknowledged(string kind)
    {
        await using var backend = await OpenAsync(kind);
        var queue = backend.Consumer("worker-1", LongIdle);
        var video = VideoId.New(Epoch);

        Assert.True(await queue.EnqueueAsync(video));
        Assert.False(await queue.EnqueueAsync(video));
        var job = await queue.DequeueAsync(Patience);
        Assert.Equal((video, 1), (job.VideoId, job.DeliveryCount));
        Assert.False(await queue.EnqueueAsync(video));

        await queue.AckAsync(job);

        Assert.False(await queue.KeepAliveAsync(job));
        Assert.True(await queue.EnqueueAsync(video));
    }

    [Theory, MemberData(nameof(Kinds))]
    public async Task Jobs_come_out_in_order_one_per_consumer(string kind)
    {
        await using var backend = await OpenAsync(kind);
        var first = backend.Consumer("worker-1", LongIdle);
        var second = backend.Consumer("worker-2", LongIdle);
        var (a, b) = (VideoId.New(Epoch), VideoId.New(Epoch.AddMinutes(1)));
        await first.EnqueueAsync(a);
        await first.EnqueueAsync(b);

        var jobA = await first.DequeueAsync(Patience);
        var jobB = await second.DequeueAsync(Patience);

        Assert.Equal([a, b], [jobA.VideoId, jobB.VideoId]);
        Assert.True(await first.KeepAliveAsync(jobA));
        Assert.True(await second.KeepAliveAsync(jobB));
    }

    [Theory, MemberData(nameof(Kinds))]
    public async Task Job_of_a_consumer_that_died_mid_job_is_reclaimed_by_another(string kind)
    {
        await using var backend = await OpenAsync(kind);
        var idle = TimeSpan.FromMilliseconds(200);
        var dying = backend.Consumer("worker-dying", idle);
        var survivor = backend.Consumer("worker-survivor", idle);
        var video = VideoId.New(Epoch);
        await dying.EnqueueAsync(video);
        var abandoned = await dying.DequeueAsync(Patience);
        await backend.KillConsumerAsync("worker-dying");

        var reclaimed = await survivor.DequeueAsync(Patience);

        Assert.Equal(video, reclaimed.VideoId);
        Assert.Equal(2, reclaimed.DeliveryCount);
        Assert.NotEqual(abandoned.Consumer + abandoned.DeliveryId, reclaimed.Consumer + reclaimed.DeliveryId);
        await survivor.AckAsync(reclaimed);
        Assert.True(await survivor.EnqueueAsync(video));
    }

    [Theory, MemberData(nameof(Kinds))]
    public async Task Restart_re_enqueues_interrupted_videos_without_duplicating_outstanding_jobs(string kind)
    {
        await using var backend = await OpenAsync(kind);
        var queue = backend.Consumer("worker-1", LongIdle);
        var queued = await CreateInStatusAsync(backend.Videos, VideoStatus.Queued, content: "q");
        var processing = await CreateInStatusAsync(backend.Videos, VideoStatus.Processing, content: "p", minute: 1);
        await queue.EnqueueAsync(queued.Id);

        int added = 0;
        foreach (var video in await backend.ReopenVideos().RecoverInterruptedAsync())
            if (await queue.EnqueueAsync(video.Id)) added++;

        Assert.Equal(1, added);
        var delivered = new[] { await queue.DequeueAsync(Patience), await queue.DequeueAsync(Patience) };
        Assert.Equal([queued.Id, processing.Id], delivered.Select(j => j.VideoId));
    }

    [Fact]
    public async Task Redis_queue_recreates_its_consumer_group_after_Redis_lost_its_data()
    {
        await using var backend = (RedisStorageBackend)await OpenAsync(StorageBackend.Redis);
        var queue = backend.Consumer("worker-1", LongIdle);
        var (before, after) = (VideoId.New(Epoch), VideoId.New(Epoch.AddMinutes(1)));
        await queue.EnqueueAsync(before);
        var lost = await queue.DequeueAsync(Patience);   // the group exists and has been used

        await backend.LoseQueueDataAsync();

        Assert.False(await queue.KeepAliveAsync(lost));   // the job went with the data: no longer anyone's
        await queue.AckAsync(lost);                         // nothing to acknowledge, and no error
        await queue.CheckAsync();                           // readable again: the group is back
        Assert.True(await queue.EnqueueAsync(after));
        var next = await queue.DequeueAsync(Patience);
        Assert.Equal((after, 1), (next.VideoId, next.DeliveryCount));
    }

    [Fact]
    public async Task Redis_queue_delivers_a_job_enqueued_after_data_loss_before_any_group_exists()
    {
        await using var backend = (RedisStorageBackend)await OpenAsync(StorageBackend.Redis);
        var queue = backend.Consumer("worker-1", LongIdle);
        await queue.EnqueueAsync(VideoId.New(Epoch));
        await queue.AckAsync(await queue.DequeueAsync(Patience));
        await backend.LoseQueueDataAsync();
        var video = VideoId.New(Epoch.AddMinutes(2));

        Assert.True(await queue.EnqueueAsync(video));   // XADD makes a stream without the group

        Assert.Equal(video, (await queue.DequeueAsync(Patience)).VideoId);
    }
}
