using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using VQToken.Api.Cache;
using VQToken.Api.Processing;
using VQToken.Api.Storage;
using VQToken.Api.Videos;

namespace VQToken.Api.Tests.Storage;

/// <summary>One implementation of the storage interfaces under test, over its own temp directory (and,
/// for Redis, its own key prefix). The contract tests run every case against each.</summary>
public abstract class StorageBackend : IAsyncDisposable
{
    public const string File = "file";
    public const string Redis = "redis";

    protected StorageBackend()
    {
        Directory = System.IO.Directory.CreateTempSubdirectory("vqtoken-storage-").FullName;
    }

    public string Directory { get; }
    public ManualTimeProvider Time { get; } = new(new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero));
    public abstract IVideoStore Videos { get; }
    public abstract ICompressedCache Cache { get; }
    public abstract ISourceStore Sources { get; }

    /// <summary>A new store instance over the same data, as after a restart.</summary>
    public abstract IVideoStore ReopenVideos();

    /// <summary>The queue consumer named <paramref name="name"/>, made on first use (for the file store,
    /// every consumer shares the one in-process queue, whose idle timeout the first call fixes).</summary>
    public abstract IJobQueue Consumer(string name, TimeSpan idleTimeout);

    /// <summary>Makes the consumer go away without acknowledging its jobs, as a replica killed mid-job
    /// (for the in-process queue, a worker task that died simply stops calling it).</summary>
    public virtual Task KillConsumerAsync(string name) => Task.CompletedTask;

    /// <summary>Replaces a stored entry's bytes with <paramref name="damage"/>(bytes), behind the store's back.</summary>
    public abstract Task DamageEntryAsync(string videoId, string fingerprint, Func<byte[], byte[]> damage);

    public StorageEvictor Evictor(long maxBytes, TimeSpan? stagingMaxAge = null) =>
        new(Videos, Sources, Cache, Time, Options.Create(new StorageOptions { MaxBytes = maxBytes, StagingMaxAge = stagingMaxAge ?? TimeSpan.FromHours(6) }),
            NullLogger<StorageEvictor>.Instance);

    public static async Task<StorageBackend> CreateAsync(string kind, RedisServerFixture redis) => kind switch
    {
        File => new FileStorageBackend(),
        Redis => await RedisStorageBackend.CreateAsync(await redis.GetConnectionStringAsync()),
        _ => throw new ArgumentOutOfRangeException(nameof(kind)),
    };

    public virtual ValueTask DisposeAsync()
    {
        System.IO.Directory.Delete(Directory, recursive: true);
        GC.SuppressFinalize(this);
        return ValueTask.CompletedTask;
    }
}
