using StackExchange.Redis;
using VQToken.Api.Videos;

namespace VQToken.Api.Storage;

/// <summary>Every Redis key the stores use, under one prefix (docs/STORAGE.md lists them).</summary>
public sealed class RedisStorageKeys(string prefix)
{
    public RedisKey Video(string id) => $"{prefix}video:{id}";
    public RedisKey Dedupe(string dedupeKey) => $"{prefix}dedupe:{dedupeKey}";
    /// <summary>Sorted set of an owner's ids (all scores 0, so ordered by id = creation time).</summary>
    public RedisKey Owner(string owner) => $"{prefix}owner:{owner}";
    public RedisKey OwnerStatus(string owner, VideoStatus status) => $"{prefix}owner-status:{StatusName(status)}:{owner}";
    /// <summary>Sorted set of every owner's ids in one status (for recovery).</summary>
    public RedisKey Status(VideoStatus status) => $"{prefix}status:{StatusName(status)}";
    public RedisKey Entry(string videoId, string fingerprint) => $"{prefix}entry:{videoId}:{fingerprint}";
    /// <summary>Hash "{videoId}:{fingerprint}" → entry size in bytes.</summary>
    public RedisKey EntrySizes => $"{prefix}entries:bytes";
    /// <summary>Sorted set "{videoId}:{fingerprint}" scored by last use (Unix ms).</summary>
    public RedisKey EntryLastUse => $"{prefix}entries:last-use";
    public RedisKey Jobs => $"{prefix}jobs";
    /// <summary>Set of video ids with a job in the stream (queued or pending).</summary>
    public RedisKey JobVideos => $"{prefix}jobs:videos";
    public const string JobGroup = "workers";

    private static string StatusName(VideoStatus status) => status.ToString().ToLowerInvariant();
}
