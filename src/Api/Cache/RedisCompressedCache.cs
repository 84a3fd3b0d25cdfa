using StackExchange.Redis;
using VQToken.Api.Storage;
using VQToken.Api.Videos;

namespace VQToken.Api.Cache;

/// <summary>Cache entries in Redis (<see cref="CacheEntryFile"/>, safetensors bytes at entry:{id}:{fingerprint},
/// a few hundred KB), so any replica answers for a video another processed. Sizes and last use sit in
/// a hash and a sorted set for eviction.</summary>
public sealed class RedisCompressedCache(IConnectionMultiplexer redis, RedisStorageKeys keys, TimeProvider time) : ICompressedCache
{
    private IDatabase Db => redis.GetDatabase();

    public async Task<CacheLookup> GetAsync(string videoId, string modelFingerprint, CancellationToken cancellationToken = default)
    {
        var member = Member(videoId, modelFingerprint);
        var bytes = (byte[]?)await Db.StringGetAsync(keys.Entry(videoId, modelFingerprint));
        if (bytes is null) return CacheLookup.Miss;
        var lookup = CacheEntryFile.Read(bytes);
        if (lookup.Status == CacheLookupStatus.Hit && lookup.Entry!.ModelFingerprint != modelFingerprint)
            return CacheLookup.Corrupt($"entry stored under fingerprint {modelFingerprint} says {lookup.Entry.ModelFingerprint}");
        // Last use only moves for an entry still indexed (XX: an entry evicted meanwhile is not revived).
        if (lookup.Status == CacheLookupStatus.Hit)
            await Db.SortedSetAddAsync(keys.EntryLastUse, member, time.GetUtcNow().ToUnixTimeMilliseconds(), SortedSetWhen.Exists);
        return lookup;
    }

    public async Task PutAsync(string videoId, CacheEntry entry, CancellationToken cancellationToken = default)
    {
        var bytes = CacheEntryFile.Write(entry);
        var member = Member(videoId, entry.ModelFingerprint);
        var tran = Db.CreateTransaction();
        _ = tran.StringSetAsync(keys.Entry(videoId, entry.ModelFingerprint), bytes);
        _ = tran.HashSetAsync(keys.EntrySizes, member, bytes.Length);
        _ = tran.SortedSetAddAsync(keys.EntryLastUse, member, time.GetUtcNow().ToUnixTimeMilliseconds());
        await tran.ExecuteAsync();
    }

    public async Task<bool> DeleteAsync(string videoId, string modelFingerprint, CancellationToken cancellationToken = default)
    {
        var member = Member(videoId, modelFingerprint);
        var tran = Db.CreateTransaction();
        var deleted = tran.KeyDeleteAsync(keys.Entry(videoId, modelFingerprint));
        _ = tran.HashDeleteAsync(keys.EntrySizes, member);
        _ = tran.SortedSetRemoveAsync(keys.EntryLastUse, member);
        await tran.ExecuteAsync();
        return await deleted;
    }

    public async Task<int> DeleteAllAsync(string videoId, CancellationToken cancellationToken = default)
    {
        int count = 0;
        foreach (var item in (await ListAsync(cancellationToken)).Where(i => i.VideoId == videoId))
            if (await DeleteAsync(videoId, item.Fingerprint!, cancellationToken)) count++;
        return count;
    }

    public async Task<IReadOnlyList<StoredItem>> ListAsync(CancellationToken cancellationToken = default)
    {
        var sizes = await Db.HashGetAllAsync(keys.EntrySizes);
        var lastUse = (await Db.SortedSetRangeByRankWithScoresAsync(keys.EntryLastUse)).ToDictionary(e => (string)e.Element!, e => e.Score);
        var items = new List<StoredItem>(sizes.Length);
        foreach (var size in sizes)
        {
            var member = (string)size.Name!;
            var (videoId, fingerprint) = Split(member);
            var used = DateTimeOffset.FromUnixTimeMilliseconds((long)lastUse.GetValueOrDefault(member));
            items.Add(new StoredItem(videoId, fingerprint, (long)size.Value, used));
        }
        return items;
    }

    private static string Member(string videoId, string fingerprint) => $"{StorageNames.VideoId(videoId)}:{StorageNames.Fingerprint(fingerprint)}";

    private static (string VideoId, string Fingerprint) Split(string member)
    {
        int colon = member.IndexOf(':');
        return (member[..colon], member[(colon + 1)..]);
    }
}
