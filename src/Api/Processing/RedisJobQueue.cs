using StackExchange.Redis;
using VQToken.Api.Storage;
using VQToken.Api.Videos;

namespace VQToken.Api.Processing;

/// <summary>The processing queue as a Redis Stream read by one consumer group: XREADGROUP delivers a
/// job to one consumer, XACK completes it, and XAUTOCLAIM hands a job pending longer than the idle
/// timeout (its replica died) to another consumer. StackExchange.Redis never blocks a multiplexed
/// connection, so an idle consumer polls.</summary>
public sealed class RedisJobQueue(IConnectionMultiplexer redis, RedisStorageKeys keys, string consumer, TimeSpan idleTimeout, TimeSpan pollInterval) : IJobQueue
{
    private const string VideoField = "video";

    // Atomic "add unless outstanding": the set makes enqueue idempotent per video.
    private static readonly LuaScript Enqueue = LuaScript.Prepare(
        "if redis.call('SADD', @videos, @video) == 1 then redis.call('XADD', @jobs, '*', 'video', @video) return 1 end return 0");

    // Ack only what is still pending, so a stale holder's late ack cannot clear a newer job's marker.
    private static readonly LuaScript Ack = LuaScript.Prepare(
        "if redis.call('XACK', @jobs, @group, @id) == 1 then redis.call('XDEL', @jobs, @id) redis.call('SREM', @videos, @video) return 1 end return 0");

    // Reset the idle clock only while the job is still pending for this consumer.
    private static readonly LuaScript KeepAlive = LuaScript.Prepare(
        "local p = redis.call('XPENDING', @jobs, @group, @id, @id, 1, @consumer) " +
        "if #p == 0 then return 0 end redis.call('XCLAIM', @jobs, @group, @consumer, 0, @id, 'JUSTID') return 1");

    private IDatabase Db => redis.GetDatabase();

    public async Task<bool> EnqueueAsync(string videoId, CancellationToken cancellationToken = default)
    {
        // XADD creates the stream when it is missing; a consumer that then meets NOGROUP creates the
        // group from the stream's start, so this job is still delivered.
        var added = await Db.ScriptEvaluateAsync(Enqueue, new { videos = keys.JobVideos, jobs = keys.Jobs, video = videoId });
        return (int)added == 1;
    }

    public async Task<VideoJob> DequeueAsync(CancellationToken cancellationToken = default)
    {
        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var job = await WithGroupAsync(async () => await TryReclaimAsync() ?? await TryReadNewAsync());
            if (job is not null) return job;
            await Task.Delay(pollInterval, cancellationToken);
        }
    }

    public async Task<bool> KeepAliveAsync(VideoJob job, CancellationToken cancellationToken = default)
    {
        try
        {
            var kept = await Db.ScriptEvaluateAsync(KeepAlive, new { jobs = keys.Jobs, group = RedisStorageKeys.JobGroup, id = job.DeliveryId, consumer = job.Consumer });
            return (int)kept == 1;
        }
        catch (RedisServerException e) when (IsNoGroup(e))
        {
            return false;   // Redis lost its data: the job is no longer anyone's
        }
    }

    public async Task AckAsync(VideoJob job, CancellationToken cancellationToken = default)
    {
        try
        {
            await Db.ScriptEvaluateAsync(Ack, new { jobs = keys.Jobs, group = RedisStorageKeys.JobGroup, id = job.DeliveryId, videos = keys.JobVideos, video = job.VideoId });
        }
        catch (RedisServerException e) when (IsNoGroup(e)) { }   // Redis lost its data: nothing left to acknowledge
    }

    public Task CheckAsync(CancellationToken cancellationToken = default) =>
        WithGroupAsync(() => Db.StreamPendingAsync(keys.Jobs, RedisStorageKeys.JobGroup));

    private async Task<VideoJob?> TryReadNewAsync()
    {
        var fresh = await Db.StreamReadGroupAsync(keys.Jobs, RedisStorageKeys.JobGroup, consumer, StreamPosition.NewMessages, count: 1);
        return fresh.Length > 0 ? new VideoJob(VideoOf(fresh[0]), fresh[0].Id!, consumer, 1) : null;
    }

    private async Task<VideoJob?> TryReclaimAsync()
    {
        var claimed = await Db.StreamAutoClaimAsync(keys.Jobs, RedisStorageKeys.JobGroup, consumer, (long)idleTimeout.TotalMilliseconds, "0-0", count: 1);
        var entries = claimed.ClaimedEntries.Where(e => !e.Id.IsNull).ToArray();
        if (entries.Length == 0) return null;
        var entry = entries[0];
        var pending = await Db.StreamPendingMessagesAsync(keys.Jobs, RedisStorageKeys.JobGroup, 1, consumer, entry.Id, entry.Id);
        int deliveries = pending.Length > 0 ? pending[0].DeliveryCount : 2;
        return new VideoJob(VideoOf(entry), entry.Id!, consumer, deliveries);
    }

    private static string VideoOf(StreamEntry entry) => (string?)entry[VideoField] ?? throw new InvalidDataException($"job {entry.Id} has no '{VideoField}' field");

    /// <summary>Runs a group command; when the group is missing (first use, or Redis restarted without
    /// its data) creates it and runs the command again. Nothing is cached, so data loss cannot leave a
    /// replica believing in a group that is gone.</summary>
    private async Task<T> WithGroupAsync<T>(Func<Task<T>> command)
    {
        try
        {
            return await command();
        }
        catch (RedisServerException e) when (IsNoGroup(e))
        {
            await CreateGroupAsync();
            return await command();
        }
    }

    private async Task CreateGroupAsync()
    {
        try
        {
            // From the start of the stream, so jobs added before any consumer existed are delivered.
            await Db.StreamCreateConsumerGroupAsync(keys.Jobs, RedisStorageKeys.JobGroup, StreamPosition.Beginning, createStream: true);
        }
        catch (RedisServerException e) when (e.Message.Contains("BUSYGROUP", StringComparison.Ordinal)) { } // another replica made it
    }

    // Also inside a script's error ("… @user_script:1: NOGROUP No such key …" on older servers).
    private static bool IsNoGroup(RedisServerException e) => e.Message.Contains("NOGROUP", StringComparison.Ordinal);
}
