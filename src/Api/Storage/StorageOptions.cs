using System.ComponentModel.DataAnnotations;

namespace VQToken.Api.Storage;

/// <summary>The "Storage" section. Validated on start; every message names the setting.</summary>
public sealed class StorageOptions : IValidatableObject
{
    public const string Section = "Storage";

    /// <summary>file | redis.</summary>
    public StorageKind Kind { get; set; } = StorageKind.File;

    /// <summary>Data directory of the file store: records, cache entries, sources.</summary>
    public string Path { get; set; } = "data";

    /// <summary>Redis connection string (Kind = redis), e.g. "localhost:6379".</summary>
    public string? Redis { get; set; }

    /// <summary>Directory every replica mounts, holding source videos (Kind = redis).</summary>
    public string? SharedSourcePath { get; set; }

    /// <summary>Prefix of every Redis key, so several deployments can share one Redis.</summary>
    [Required(ErrorMessage = "Storage:KeyPrefix is required")]
    [RegularExpression(@"^[A-Za-z0-9_.:-]{1,64}$", ErrorMessage = "Storage:KeyPrefix must be 1-64 characters of [A-Za-z0-9_.:-]")]
    public string KeyPrefix { get; set; } = "vqtoken:";

    /// <summary>This replica's name in the Redis consumer group; defaults to host name + process id.</summary>
    public string? ConsumerName { get; set; }

    /// <summary>Bound on stored sources + cache entries; past it, least recently used ones are evicted.</summary>
    [Range(1L, long.MaxValue, ErrorMessage = "Storage:MaxBytes must be at least 1")]
    public long MaxBytes { get; set; } = 20L << 30;

    /// <summary>A job unacknowledged and not kept alive this long is reclaimed by another consumer. The
    /// worker's heartbeat is a third of it, so a healthy job misses two heartbeats before it could be.</summary>
    [Range(typeof(TimeSpan), "00:00:03", "1.00:00:00", ErrorMessage = "Storage:JobIdleTimeout must be between 3 s (the heartbeat is a third of it) and 1 day")]
    public TimeSpan JobIdleTimeout { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>How often a worker tells the queue its job is alive: derived, not set.</summary>
    public TimeSpan HeartbeatInterval => JobIdleTimeout / 3;

    /// <summary>How often an idle Redis consumer polls (StackExchange.Redis does not block on XREADGROUP).</summary>
    [Range(typeof(TimeSpan), "00:00:00.010", "00:01:00", ErrorMessage = "Storage:PollInterval must be between 10 ms and 1 minute")]
    public TimeSpan PollInterval { get; set; } = TimeSpan.FromMilliseconds(500);

    [Range(typeof(TimeSpan), "00:00:01", "1.00:00:00", ErrorMessage = "Storage:EvictionInterval must be between 1 s and 1 day")]
    public TimeSpan EvictionInterval { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>A staged upload file older than this was left by a process that died mid-upload; the
    /// eviction pass removes it.</summary>
    [Range(typeof(TimeSpan), "00:01:00", "7.00:00:00", ErrorMessage = "Storage:StagingMaxAge must be between 1 minute and 7 days")]
    public TimeSpan StagingMaxAge { get; set; } = TimeSpan.FromHours(6);

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (Kind == StorageKind.File && string.IsNullOrWhiteSpace(Path))
            yield return new("Storage:Path is required when Storage:Kind is file", [nameof(Path)]);
        if (Kind == StorageKind.Redis && string.IsNullOrWhiteSpace(Redis))
            yield return new("Storage:Redis (a connection string) is required when Storage:Kind is redis", [nameof(Redis)]);
        if (Kind == StorageKind.Redis && string.IsNullOrWhiteSpace(SharedSourcePath))
            yield return new("Storage:SharedSourcePath (a directory all replicas mount) is required when Storage:Kind is redis", [nameof(SharedSourcePath)]);
    }

    public string EffectiveConsumerName => string.IsNullOrWhiteSpace(ConsumerName) ? $"{Environment.MachineName}-{Environment.ProcessId}" : ConsumerName;
}
