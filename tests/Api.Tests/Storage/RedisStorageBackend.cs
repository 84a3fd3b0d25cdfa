using StackExchange.Redis;
using VQToken.Api.Cache;
using VQToken.Api.Processing;
using VQToken.Api.Storage;
using VQToken.Api.Videos;

namespace VQToken.Api.Tests.Storage;

/// <summary>The Redis store on the shared test server, under a key prefix of its own; each queue
/// consumer gets its own connection, as a replica would.</summary>
public sealed class RedisStorageBackend : StorageBackend
{
    private readonly string _connectionString;
    private readonly ConnectionMultiplexer _redis;
    private readonly RedisStorageKeys _keys;
    private readonly Dictionary<string, ConnectionMultiplexer> _consumers = [];
    private readonly Dictionary<string, RedisJobQueue> _queues = [];

    private RedisStorageBackend(string connectionString, ConnectionMultiplexer redis)
    {
        _connectionString = connectionString;
        _redis = redis;
        _keys = new RedisStorageKeys($"test-{Guid.NewGuid():N}:");
        Videos = ReopenVideos();
        Cache = new RedisCompressedCache(_redis, _keys, Time);
        Sources = new DirectorySourceStore(Path.Combine(Directory, "shared-sources"), Time);
    }

    public static async Task<RedisStorageBackend> CreateAsync(string connectionString) =>
        new(connectionString, await ConnectionMultiplexer.ConnectAsync(connectionString));

    public override IVideoStore Videos { get; }
    public override ICompressedCache Cache { get; }
    public override ISourceStore Sources { get; }

    public override IVideoStore ReopenVideos() => new RedisVideoStore(_redis, _keys, Time);

    public override IJobQueue Consumer(string name, TimeSpan idleTimeout)
    {
        if (_queues.TryGetValue(name, out var existing)) return existing;
        var connection = ConnectionMultiplexer.Connect(_connectionString);
        _consumers.Add(name, connection);
        return _queues[name] = new RedisJobQueue(connection, _keys, name, idleTimeout, TimeSpan.FromMilliseconds(20));
    }

    /// <summary>Closes the consumer's connection, as if its replica died.</summary>
    public override async Task KillConsumerAsync(string name) => await _consumers[name].CloseAsync(allowCommandsToComplete: false);

    /// <summary>Deletes the job stream (with its consumer group) and the outstanding set, as a Redis
    /// restarted without its data would have.</summary>
    public async Task LoseQueueDataAsync() => await _redis.GetDatabase().KeyDeleteAsync([_keys.Jobs, _keys.JobVideos]);

    public override async Task DamageEntryAsync(string videoId, string fingerprint, Func<byte[], byte[]> damage)
    {
        var key = _keys.Entry(videoId, fingerprint);
        var db = _redis.GetDatabase();
        await db.StringSetAsync(key, damage((byte[])(await db.StringGetAsync(key))!));
    }

    public override async ValueTask DisposeAsync()
    {
        foreach (var c in _consumers.Values) await c.DisposeAsync();
        await _redis.DisposeAsync();
        await base.DisposeAsync();
    }
}
