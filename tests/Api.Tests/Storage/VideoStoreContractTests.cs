using System.Text.Json;
using VQToken.Api.Processing;
using VQToken.Api.Storage;
using VQToken.Api.Videos;
using static VQToken.Api.Tests.Storage.TestVideos;

namespace VQToken.Api.Tests.Storage;

[Collection(StorageCollection.Name)]
public sealed class VideoStoreContractTests(RedisServerFixture redis) : StorageContractTestBase(redis)
{
    [Theory, MemberData(nameof(Kinds))]
    public async Task Created_record_reads_back_identical_after_a_restart(string kind)
    {
        await using var backend = await OpenAsync(kind);
        var candidate = Queued() with
        {
            Probe = new SourceProbe(12.5, 30, 640, 360, "h264"),
            StageMilliseconds = new Dictionary<string, double> { ["probe"] = 12.5 },
            FrameTimes = [0, 0.9, 1.9],
        };
        var created = await backend.Videos.CreateOrGetExistingAsync(candidate);

        Assert.True(created.Created);
        var reopened = await backend.ReopenVideos().GetAsync(candidate.Id);
        Assert.Equal(Json(candidate), Json(reopened!));
    }

    [Theory, MemberData(nameof(Kinds))]
    public async Task Unknown_or_malformed_id_reads_as_absent(string kind)
    {
        await using var backend = await OpenAsync(kind);
        Assert.Null(await backend.Videos.GetAsync(VideoId.New(Epoch)));
        Assert.Null(await backend.Videos.GetAsync("../../etc/passwd"));
        Assert.Equal(VideoUpdateOutcome.NotFound, (await backend.Videos.UpdateAsync("../x", r => r)).Outcome);
        Assert.False(await backend.Videos.DeleteAsync("../x"));
    }

    [Theory, MemberData(nameof(Kinds))]
    public async Task Video_moves_queued_processing_ready_with_progress_and_stamps_updates(string kind)
    {
        await using var backend = await OpenAsync(kind);
        var video = (await backend.Videos.CreateOrGetExistingAsync(Queued())).Video;

        backend.Time.Advance(TimeSpan.FromSeconds(5));
        var processing = Updated(await backend.Videos.UpdateAsync(video.Id, r => r with
        {
            Status = VideoStatus.Processing, Progress = new VideoProgress("vision", 0.5), Attempts = r.Attempts + 1,
        }));
        backend.Time.Advance(TimeSpan.FromSeconds(5));
        Updated(await backend.Videos.UpdateAsync(video.Id, r => r with
        {
            Status = VideoStatus.Ready, Progress = new VideoProgress("done", 1), Tokens = new TokenCounts(6273, 33),
            StageMilliseconds = new Dictionary<string, double> { ["vision"] = 900, ["compress"] = 40 },
        }));

        var ready = await backend.Videos.GetAsync(video.Id);
        Assert.Equal(VideoStatus.Ready, ready!.Status);
        Assert.Equal(1, ready.Attempts);
        Assert.Equal(33 / 6273.0, ready.Tokens!.Value.Ratio, 6);
        Assert.Equal(900, ready.StageMilliseconds["vision"]);
        Assert.Equal(Epoch.AddSeconds(5), processing.UpdatedAt);
        Assert.Equal(Epoch.AddSeconds(10), ready.UpdatedAt);
    }

    [Theory, MemberData(nameof(Kinds))]
    public async Task Ready_video_goes_back_to_queued_only_by_an_explicit_requeue(string kind)
    {
        await using var backend = await OpenAsync(kind);
        var ready = await CreateInStatusAsync(backend.Videos, VideoStatus.Ready);

        var toProcessing = await backend.Videos.UpdateAsync(ready.Id, r => r with { Status = VideoStatus.Processing });
        var toQueued = await backend.Videos.UpdateAsync(ready.Id, r => r with { Status = VideoStatus.Queued });
        Assert.Equal(VideoUpdateOutcome.Rejected, toProcessing.Outcome);
        Assert.Contains("ready → processing", toProcessing.Error);
        Assert.Equal(VideoUpdateOutcome.Rejected, toQueued.Outcome);
        Assert.Equal(VideoStatus.Ready, (await backend.Videos.GetAsync(ready.Id))!.Status);

        var requeued = Updated(await backend.Videos.RequeueAsync(ready.Id, "model upgraded"));
        Assert.Equal(VideoStatus.Queued, requeued.Status);
        Assert.Equal("model upgraded", requeued.Reason);
        Updated(await backend.Videos.UpdateAsync(ready.Id, r => r with { Status = VideoStatus.Processing }));
    }

    [Theory, MemberData(nameof(Kinds))]
    public async Task Requeue_of_an_unfinished_video_is_rejected(string kind)
    {
        await using var backend = await OpenAsync(kind);
        var processing = await CreateInStatusAsync(backend.Videos, VideoStatus.Processing);

        Assert.Equal(VideoUpdateOutcome.Rejected, (await backend.Videos.RequeueAsync(processing.Id, "again")).Outcome);
    }

    [Theory, MemberData(nameof(Kinds))]
    public async Task Identity_fields_cannot_be_changed_by_an_update(string kind)
    {
        await using var backend = await OpenAsync(kind);
        var video = (await backend.Videos.CreateOrGetExistingAsync(Queued())).Video;

        var result = await backend.Videos.UpdateAsync(video.Id, r => r with { Owner = "key-b" });

        Assert.Equal(VideoUpdateOutcome.Rejected, result.Outcome);
        Assert.Equal("key-a", (await backend.Videos.GetAsync(video.Id))!.Owner);
    }

    [Theory, MemberData(nameof(Kinds))]
    public async Task Concurrent_updates_of_one_record_lose_no_write(string kind)
    {
        await using var backend = await OpenAsync(kind);
        var video = (await backend.Videos.CreateOrGetExistingAsync(Queued())).Video;

        await Task.WhenAll(Enumerable.Range(0, 12).Select(i => Task.Run(() => backend.Videos.UpdateAsync(video.Id, r => r with
        {
            StageMilliseconds = new Dictionary<string, double>(r.StageMilliseconds) { [$"stage{i}"] = i },
        }))));

        Assert.Equal(12, (await backend.Videos.GetAsync(video.Id))!.StageMilliseconds.Count);
    }

    [Theory, MemberData(nameof(Kinds))]
    public async Task List_pages_an_owners_videos_newest_first_and_filters_by_status(string kind)
    {
        await using var backend = await OpenAsync(kind);
        var mine = new List<VideoRecord>();
        for (int i = 0; i < 5; i++)
            mine.Add(await CreateInStatusAsync(backend.Videos, i % 2 == 0 ? VideoStatus.Ready : VideoStatus.Queued, content: $"v{i}", minute: i));
        await CreateInStatusAsync(backend.Videos, VideoStatus.Ready, owner: "key-b", content: "theirs", minute: 10);

        var pages = new List<VideoPage>();
        string? after = null;
        do
        {
            pages.Add(await backend.Videos.ListAsync(new VideoQuery("key-a", Limit: 2, After: after)));
            after = pages[^1].Next;
        }
        while (after is not null);
        var ready = await backend.Videos.ListAsync(new VideoQuery("key-a", VideoStatus.Ready));

        Assert.Equal([2, 2, 1], pages.Select(p => p.Items.Count));
        Assert.Equal(mine.Select(v => v.Id).Reverse(), pages.SelectMany(p => p.Items).Select(v => v.Id));
        Assert.Equal([mine[4].Id, mine[2].Id, mine[0].Id], ready.Items.Select(v => v.Id));
        Assert.Null(ready.Next);
    }

    [Theory, MemberData(nameof(Kinds))]
    public async Task Another_owner_cannot_see_or_list_a_video(string kind)
    {
        await using var backend = await OpenAsync(kind);
        var video = await CreateInStatusAsync(backend.Videos, VideoStatus.Ready, owner: "key-a");

        Assert.Null(await backend.Videos.GetOwnedAsync("key-b", video.Id));
        Assert.Equal(video.Id, (await backend.Videos.GetOwnedAsync("key-a", video.Id))!.Id);
        Assert.Empty((await backend.Videos.ListAsync(new VideoQuery("key-b"))).Items);
    }

    [Theory, MemberData(nameof(Kinds))]
    public async Task Same_bytes_and_settings_return_the_existing_video_ready_or_in_flight(string kind)
    {
        await using var backend = await OpenAsync(kind);
        var inFlight = await CreateInStatusAsync(backend.Videos, VideoStatus.Processing, content: "a");
        var ready = await CreateInStatusAsync(backend.Videos, VideoStatus.Ready, content: "b");

        var again1 = await backend.Videos.CreateOrGetExistingAsync(Queued(content: "a", minute: 5));
        var again2 = await backend.Videos.CreateOrGetExistingAsync(Queued(content: "b", minute: 5));

        Assert.Equal((false, inFlight.Id), (again1.Created, again1.Video.Id));
        Assert.Equal((false, ready.Id), (again2.Created, again2.Video.Id));
    }

    [Theory, MemberData(nameof(Kinds))]
    public async Task Other_settings_or_other_owner_make_a_new_video(string kind)
    {
        await using var backend = await OpenAsync(kind);
        var first = await CreateInStatusAsync(backend.Videos, VideoStatus.Ready);

        var otherSettings = await backend.Videos.CreateOrGetExistingAsync(Queued(settings: CompressionSettings.Adaptive(32, 16, 64), minute: 1));
        var otherOwner = await backend.Videos.CreateOrGetExistingAsync(Queued(owner: "key-b", minute: 1));

        Assert.True(otherSettings.Created);
        Assert.True(otherOwner.Created);
        Assert.Equal(3, new[] { first.Id, otherSettings.Video.Id, otherOwner.Video.Id }.Distinct().Count());
    }

    [Theory, MemberData(nameof(Kinds))]
    public async Task Upload_after_a_failure_makes_a_fresh_video(string kind)
    {
        await using var backend = await OpenAsync(kind);
        var failed = await CreateInStatusAsync(backend.Videos, VideoStatus.Failed);

        var retry = await backend.Videos.CreateOrGetExistingAsync(Queued(minute: 1));
        var third = await backend.Videos.CreateOrGetExistingAsync(Queued(minute: 2));

        Assert.True(retry.Created);
        Assert.NotEqual(failed.Id, retry.Video.Id);
        Assert.Equal((false, retry.Video.Id), (third.Created, third.Video.Id));
    }

    [Theory, MemberData(nameof(Kinds))]
    public async Task Concurrent_uploads_of_the_same_bytes_create_exactly_one_video(string kind)
    {
        await using var backend = await OpenAsync(kind);

        var results = await Task.WhenAll(Enumerable.Range(0, 16).Select(_ => Task.Run(() => backend.Videos.CreateOrGetExistingAsync(Queued()))));

        Assert.Single(results, r => r.Created);
        Assert.Single(results.Select(r => r.Video.Id).Distinct());
        Assert.Single((await backend.Videos.ListAsync(new VideoQuery("key-a"))).Items);
    }

    [Theory, MemberData(nameof(Kinds))]
    public async Task Delete_removes_the_record_and_frees_its_dedupe_slot(string kind)
    {
        await using var backend = await OpenAsync(kind);
        var video = await CreateInStatusAsync(backend.Videos, VideoStatus.Ready);

        Assert.True(await backend.Videos.DeleteAsync(video.Id));
        Assert.False(await backend.Videos.DeleteAsync(video.Id));

        Assert.Null(await backend.ReopenVideos().GetAsync(video.Id));
        Assert.Empty((await backend.Videos.ListAsync(new VideoQuery("key-a"))).Items);
        Assert.True((await backend.Videos.CreateOrGetExistingAsync(Queued(minute: 1))).Created);
    }

    [Theory, MemberData(nameof(Kinds))]
    public async Task Recovery_after_a_restart_lists_every_queued_and_processing_video(string kind)
    {
        await using var backend = await OpenAsync(kind);
        var queued = await CreateInStatusAsync(backend.Videos, VideoStatus.Queued, content: "q", minute: 0);
        var processing = await CreateInStatusAsync(backend.Videos, VideoStatus.Processing, owner: "key-b", content: "p", minute: 1);
        await CreateInStatusAsync(backend.Videos, VideoStatus.Ready, content: "r", minute: 2);
        await CreateInStatusAsync(backend.Videos, VideoStatus.Failed, content: "f", minute: 3);

        var interrupted = await backend.ReopenVideos().RecoverInterruptedAsync();

        Assert.Equal([queued.Id, processing.Id], interrupted.Select(v => v.Id));
    }

    private static string Json(VideoRecord record) => JsonSerializer.Serialize(record, StorageJsonContext.Default.VideoRecord);
}
