using System.Text.Json;
using StackExchange.Redis;
using VQToken.Api.Processing;
using VQToken.Api.Storage;

namespace VQToken.Api.Videos;

/// <summary>Video records in Redis, shared by every replica: the record as JSON at video:{id}, plus
/// sorted sets per owner, per owner+status and per status, and a dedupe key → id. Every write is a
/// MULTI/EXEC conditioned on the record's JSON being what was read (optimistic concurrency, retried).</summary>
public sealed class RedisVideoStore(IConnectionMultiplexer redis, RedisStorageKeys keys, TimeProvider time) : IVideoStore
{
    private const int MaxAttempts = 100;
    private IDatabase Db => redis.GetDatabase();

    public async Task<VideoCreation> CreateOrGetExistingAsync(VideoRecord candidate, CancellationToken cancellationToken = default)
    {
        StorageNames.VideoId(candidate.Id);
        var dedupeKey = keys.Dedupe(candidate.DedupeKey);
        var json = Serialize(candidate);
        for (int attempt = 0; attempt < MaxAttempts; attempt++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var existingId = await Db.StringGetAsync(dedupeKey);
            RedisValue existingJson = RedisValue.Null;
            if (!existingId.IsNull)
            {
                existingJson = await Db.StringGetAsync(keys.Video(existingId!));
                if (!existingJson.IsNull && Deserialize(existingJson) is { Status: not VideoStatus.Failed } existing)
                    return new VideoCreation(existing, Created: false);
            }
            var tran = Db.CreateTransaction();
            tran.AddCondition(existingId.IsNull ? Condition.KeyNotExists(dedupeKey) : Condition.StringEqual(dedupeKey, existingId));
            if (!existingId.IsNull)
                tran.AddCondition(existingJson.IsNull ? Condition.KeyNotExists(keys.Video(existingId!)) : Condition.StringEqual(keys.Video(existingId!), existingJson));
            tran.AddCondition(Condition.KeyNotExists(keys.Video(candidate.Id)));
            _ = tran.StringSetAsync(dedupeKey, candidate.Id);
            _ = tran.StringSetAsync(keys.Video(candidate.Id), json);
            _ = tran.SortedSetAddAsync(keys.Owner(candidate.Owner), candidate.Id, 0);
            _ = tran.SortedSetAddAsync(keys.OwnerStatus(candidate.Owner, candidate.Status), candidate.Id, 0);
            _ = tran.SortedSetAddAsync(keys.Status(candidate.Status), candidate.Id, 0);
            if (await tran.ExecuteAsync()) return new VideoCreation(candidate, Created: true);
        }
        throw new InvalidOperationException($"dedupe insert for video {candidate.Id} kept conflicting");
    }

    public async Task<VideoRecord?> GetAsync(string id, CancellationToken cancellationToken = default)
    {
        if (!VideoId.IsValid(id)) return null;
        var json = await Db.StringGetAsync(keys.Video(id));
        return json.IsNull ? null : Deserialize(json);
    }

    public async Task<VideoRecord?> GetOwnedAsync(string owner, string id, CancellationToken cancellationToken = default) =>
        await GetAsync(id, cancellationToken) is { } record && record.Owner == owner ? record : null;

    public Task<VideoUpdateResult> UpdateAsync(string id, Func<VideoRecord, VideoRecord> change, CancellationToken cancellationToken = default) =>
        ModifyAsync(id, current => VideoLifecycle.Apply(current, change, time.GetUtcNow()), cancellationToken);

    public Task<VideoUpdateResult> RequeueAsync(string id, string reason, CancellationToken cancellationToken = default) =>
        ModifyAsync(id, current => VideoLifecycle.Requeue(current, reason, time.GetUtcNow()), cancellationToken);

    private async Task<VideoUpdateResult> ModifyAsync(string id, Func<VideoRecord, VideoUpdateResult> apply, CancellationToken cancellationToken)
    {
        if (!VideoId.IsValid(id)) return VideoUpdateResult.NotFound(id);
        for (int attempt = 0; attempt < MaxAttempts; attempt++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var json = await Db.StringGetAsync(keys.Video(id));
            if (json.IsNull) return VideoUpdateResult.NotFound(id);
            var current = Deserialize(json);
            var result = apply(current);
            if (result.Outcome != VideoUpdateOutcome.Updated) return result;
            var next = result.Video!;

            var dedupeKey = keys.Dedupe(next.DedupeKey);
            var dedupeId = await Db.StringGetAsync(dedupeKey);
            var tran = Db.CreateTransaction();
            tran.AddCondition(Condition.StringEqual(keys.Video(id), json));
            _ = tran.StringSetAsync(keys.Video(id), Serialize(next));
            if (next.Status != current.Status)
            {
                _ = tran.SortedSetRemoveAsync(keys.OwnerStatus(current.Owner, current.Status), id);
                _ = tran.SortedSetRemoveAsync(keys.Status(current.Status), id);
                _ = tran.SortedSetAddAsync(keys.OwnerStatus(next.Owner, next.Status), id, 0);
                _ = tran.SortedSetAddAsync(keys.Status(next.Status), id, 0);
            }
            // A failed video gives up its dedupe slot (a re-upload makes a fresh one); a re-enqueued one takes it back if free.
            if (next.Status == VideoStatus.Failed && dedupeId == id)
            {
                tran.AddCondition(Condition.StringEqual(dedupeKey, id));
                _ = tran.KeyDeleteAsync(dedupeKey);
            }
            else if (next.Status != VideoStatus.Failed && dedupeId.IsNull)
            {
                tran.AddCondition(Condition.KeyNotExists(dedupeKey));
                _ = tran.StringSetAsync(dedupeKey, id);
            }
            if (await tran.ExecuteAsync()) return result;
        }
        throw new InvalidOperationException($"update of video {id} kept conflicting");
    }

    public async Task<VideoPage> ListAsync(VideoQuery query, CancellationToken cancellationToken = default)
    {
        int limit = Math.Clamp(query.Limit, 1, VideoQuery.MaxLimit);
        var index = query.Status is { } status ? keys.OwnerStatus(query.Owner, status) : keys.Owner(query.Owner);
        var ids = query.After is null
            ? await Db.SortedSetRangeByValueAsync(index, order: Order.Descending, take: limit + 1)
            : await Db.SortedSetRangeByValueAsync(index, max: query.After, exclude: Exclude.Stop, order: Order.Descending, take: limit + 1);
        var records = await LoadAsync(ids);
        return VideoPaging.Page(records, limit);
    }

    public async Task<bool> DeleteAsync(string id, CancellationToken cancellationToken = default)
    {
        if (!VideoId.IsValid(id)) return false;
        for (int attempt = 0; attempt < MaxAttempts; attempt++)
        {
            var json = await Db.StringGetAsync(keys.Video(id));
            if (json.IsNull) return false;
            var record = Deserialize(json);
            var dedupeKey = keys.Dedupe(record.DedupeKey);
            var tran = Db.CreateTransaction();
            tran.AddCondition(Condition.StringEqual(keys.Video(id), json));
            if (await Db.StringGetAsync(dedupeKey) == id)
            {
                tran.AddCondition(Condition.StringEqual(dedupeKey, id));
                _ = tran.KeyDeleteAsync(dedupeKey);
            }
            else tran.AddCondition(Condition.StringNotEqual(dedupeKey, id));
            _ = tran.KeyDeleteAsync(keys.Video(id));
            _ = tran.SortedSetRemoveAsync(keys.Owner(record.Owner), id);
            _ = tran.SortedSetRemoveAsync(keys.OwnerStatus(record.Owner, record.Status), id);
            _ = tran.SortedSetRemoveAsync(keys.Status(record.Status), id);
            if (await tran.ExecuteAsync()) return true;
        }
        throw new InvalidOperationException($"delete of video {id} kept conflicting");
    }

    public async Task<IReadOnlyList<VideoRecord>> RecoverInterruptedAsync(CancellationToken cancellationToken = default)
    {
        var queued = await Db.SortedSetRangeByValueAsync(keys.Status(VideoStatus.Queued));
        var processing = await Db.SortedSetRangeByValueAsync(keys.Status(VideoStatus.Processing));
        var records = await LoadAsync([.. queued, .. processing]);
        return records.Where(r => r.Status is VideoStatus.Queued or VideoStatus.Processing).OrderBy(r => r.Id, StringComparer.Ordinal).ToList();
    }

    private async Task<List<VideoRecord>> LoadAsync(RedisValue[] ids)
    {
        if (ids.Length == 0) return [];
        var values = await Db.StringGetAsync([.. ids.Select(id => keys.Video(id!))]);
        // A record deleted between reading the index and reading it is skipped.
        return [.. values.Where(v => !v.IsNull).Select(Deserialize)];
    }

    private static string Serialize(VideoRecord record) => JsonSerializer.Serialize(record, StorageJsonContext.Default.VideoRecord);

    private static VideoRecord Deserialize(RedisValue json) =>
        JsonSerializer.Deserialize((string)json!, StorageJsonContext.Default.VideoRecord) ?? throw new InvalidDataException("null video record");
}
