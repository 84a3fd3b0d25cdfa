using System.Text.Json;
using Microsoft.Extensions.Logging;
using VQToken.Api.Processing;
using VQToken.Api.Storage;

namespace VQToken.Api.Videos;

/// <summary>The embedded store: one JSON file per record under <c>{root}/{id}.json</c>, written
/// atomically, all records held in memory behind one lock (the lock makes dedupe check-and-insert
/// atomic). One process owns the directory; replicas use <see cref="RedisVideoStore"/>.</summary>
public sealed class FileVideoStore : IVideoStore
{
    private readonly string _root;
    private readonly TimeProvider _time;
    private readonly Lock _gate = new();
    private readonly Dictionary<string, VideoRecord> _records = new(StringComparer.Ordinal);
    private readonly Dictionary<string, string> _dedupe = new(StringComparer.Ordinal);

    public FileVideoStore(string root, TimeProvider time, ILogger<FileVideoStore> logger)
    {
        _root = Directory.CreateDirectory(Path.GetFullPath(root)).FullName;
        _time = time;
        Load(logger);
    }

    private void Load(ILogger logger)
    {
        foreach (var file in Directory.EnumerateFiles(_root))
        {
            if (file.Contains(AtomicFile.TempMarker, StringComparison.Ordinal)) { File.Delete(file); continue; } // a write cut by a crash
            if (!file.EndsWith(".json", StringComparison.Ordinal)) continue;
            try
            {
                var record = JsonSerializer.Deserialize(File.ReadAllBytes(file), StorageJsonContext.Default.VideoRecord);
                if (record is null || record.Id != Path.GetFileNameWithoutExtension(file)) throw new JsonException("record id does not match its file name");
                _records[record.Id] = record;
            }
            catch (JsonException e)
            {
                logger.LogError(e, "Skipping unreadable video record {File}", file);
            }
        }
        foreach (var record in _records.Values.Where(r => r.Status != VideoStatus.Failed).OrderBy(r => r.Id, StringComparer.Ordinal))
            _dedupe[record.DedupeKey] = record.Id;
    }

    public Task<VideoCreation> CreateOrGetExistingAsync(VideoRecord candidate, CancellationToken cancellationToken = default)
    {
        StorageNames.VideoId(candidate.Id);
        lock (_gate)
        {
            if (_dedupe.TryGetValue(candidate.DedupeKey, out var existingId)
                && _records.TryGetValue(existingId, out var existing) && existing.Status != VideoStatus.Failed)
                return Task.FromResult(new VideoCreation(existing, Created: false));
            if (_records.ContainsKey(candidate.Id)) throw new InvalidOperationException($"video {candidate.Id} already exists");
            Save(candidate);
            _dedupe[candidate.DedupeKey] = candidate.Id;
            return Task.FromResult(new VideoCreation(candidate, Created: true));
        }
    }

    public Task<VideoRecord?> GetAsync(string id, CancellationToken cancellationToken = default)
    {
        lock (_gate) return Task.FromResult(_records.GetValueOrDefault(id));
    }

    public async Task<VideoRecord?> GetOwnedAsync(string owner, string id, CancellationToken cancellationToken = default) =>
        await GetAsync(id, cancellationToken) is { } record && record.Owner == owner ? record : null;

    public Task<VideoUpdateResult> UpdateAsync(string id, Func<VideoRecord, VideoRecord> change, CancellationToken cancellationToken = default) =>
        Modify(id, current => VideoLifecycle.Apply(current, change, _time.GetUtcNow()));

    public Task<VideoUpdateResult> RequeueAsync(string id, string reason, CancellationToken cancellationToken = default) =>
        Modify(id, current => VideoLifecycle.Requeue(current, reason, _time.GetUtcNow()));

    private Task<VideoUpdateResult> Modify(string id, Func<VideoRecord, VideoUpdateResult> apply)
    {
        lock (_gate)
        {
            if (!_records.TryGetValue(id, out var current)) return Task.FromResult(VideoUpdateResult.NotFound(id));
            var result = apply(current);
            if (result.Outcome != VideoUpdateOutcome.Updated) return Task.FromResult(result);
            var next = result.Video!;
            Save(next);
            // A failed video gives up its dedupe slot (a re-upload makes a fresh one); a re-enqueued one takes it back if free.
            if (next.Status == VideoStatus.Failed && _dedupe.GetValueOrDefault(next.DedupeKey) == id) _dedupe.Remove(next.DedupeKey);
            if (next.Status != VideoStatus.Failed && !_dedupe.ContainsKey(next.DedupeKey)) _dedupe[next.DedupeKey] = id;
            return Task.FromResult(result);
        }
    }

    public Task<VideoPage> ListAsync(VideoQuery query, CancellationToken cancellationToken = default)
    {
        int limit = Math.Clamp(query.Limit, 1, VideoQuery.MaxLimit);
        lock (_gate)
        {
            var page = _records.Values
                .Where(r => r.Owner == query.Owner && (query.Status is null || r.Status == query.Status)
                    && (query.After is null || string.CompareOrdinal(r.Id, query.After) < 0))
                .OrderByDescending(r => r.Id, StringComparer.Ordinal)
                .Take(limit + 1)
                .ToList();
            return Task.FromResult(VideoPaging.Page(page, limit));
        }
    }

    public Task<bool> DeleteAsync(string id, CancellationToken cancellationToken = default)
    {
        lock (_gate)
        {
            if (!_records.Remove(id, out var record)) return Task.FromResult(false);
            if (_dedupe.GetValueOrDefault(record.DedupeKey) == id) _dedupe.Remove(record.DedupeKey);
            File.Delete(PathOf(id));
            AtomicFile.SyncDirectory(_root);
            return Task.FromResult(true);
        }
    }

    public Task<IReadOnlyList<VideoRecord>> RecoverInterruptedAsync(CancellationToken cancellationToken = default)
    {
        lock (_gate)
        {
            IReadOnlyList<VideoRecord> unfinished = _records.Values
                .Where(r => r.Status is VideoStatus.Queued or VideoStatus.Processing)
                .OrderBy(r => r.Id, StringComparer.Ordinal)
                .ToList();
            return Task.FromResult(unfinished);
        }
    }

    private void Save(VideoRecord record)
    {
        AtomicFile.WriteAllBytes(PathOf(record.Id), JsonSerializer.SerializeToUtf8Bytes(record, StorageJsonContext.Default.VideoRecord));
        _records[record.Id] = record;
    }

    private string PathOf(string id) => Path.Combine(_root, StorageNames.VideoId(id) + ".json");
}
