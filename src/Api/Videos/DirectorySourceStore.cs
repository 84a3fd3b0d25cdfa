using System.Security.Cryptography;
using VQToken.Api.Cache;
using VQToken.Api.Storage;

namespace VQToken.Api.Videos;

/// <summary>Source videos as <c>{root}/{videoId}.video</c>, staged under <c>{root}/.staging/</c> (same
/// file system, so committing is a rename). Last use is the file's modification time, so every
/// replica sharing the directory sees the same LRU order.</summary>
public sealed class DirectorySourceStore : ISourceStore
{
    private const string Extension = ".video";
    private readonly string _root;
    private readonly string _staging;
    private readonly TimeProvider _time;

    public DirectorySourceStore(string root, TimeProvider time)
    {
        _time = time;
        _root = Path.GetFullPath(root);
        _staging = Path.Combine(_root, ".staging");
        Directory.CreateDirectory(_staging);
    }

    public async Task<StagedSource> StageAsync(Stream content, CancellationToken cancellationToken = default)
    {
        var path = Path.Combine(_staging, Guid.NewGuid().ToString("N"));
        try
        {
            using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
            long bytes = 0;
            await using (var file = new FileStream(path, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16, useAsync: true))
            {
                var buffer = new byte[1 << 16];
                int read;
                while ((read = await content.ReadAsync(buffer, cancellationToken)) > 0)
                {
                    hash.AppendData(buffer, 0, read);
                    await file.WriteAsync(buffer.AsMemory(0, read), cancellationToken);
                    bytes += read;
                }
                file.Flush(flushToDisk: true);
            }
            return new StagedSource(path, bytes, Convert.ToHexStringLower(hash.GetHashAndReset()));
        }
        catch
        {
            File.Delete(path);
            throw;
        }
    }

    public Task<string> CommitAsync(StagedSource staged, string videoId, CancellationToken cancellationToken = default)
    {
        var path = PathOf(videoId);
        AtomicFile.MoveIntoPlace(StagedPath(staged), path);
        File.SetLastWriteTimeUtc(path, _time.GetUtcNow().UtcDateTime);
        return Task.FromResult(path);
    }

    public Task DiscardAsync(StagedSource staged, CancellationToken cancellationToken = default)
    {
        File.Delete(StagedPath(staged));
        return Task.CompletedTask;
    }

    public Task<string?> GetPathAsync(string videoId, CancellationToken cancellationToken = default)
    {
        var path = PathOf(videoId);
        try
        {
            File.SetLastWriteTimeUtc(path, _time.GetUtcNow().UtcDateTime);
            return Task.FromResult<string?>(path);
        }
        catch (FileNotFoundException)
        {
            return Task.FromResult<string?>(null); // never stored, or evicted
        }
    }

    public Task<bool> DeleteAsync(string videoId, CancellationToken cancellationToken = default)
    {
        var path = PathOf(videoId);
        bool existed = File.Exists(path);
        File.Delete(path);
        return Task.FromResult(existed);
    }

    public Task<IReadOnlyList<StoredItem>> ListAsync(CancellationToken cancellationToken = default)
    {
        var items = new List<StoredItem>();
        foreach (var file in new DirectoryInfo(_root).EnumerateFiles("*" + Extension))
        {
            var id = Path.GetFileNameWithoutExtension(file.Name);
            if (VideoId.IsValid(id)) items.Add(new StoredItem(id, null, file.Length, file.LastWriteTimeUtc));
        }
        return Task.FromResult<IReadOnlyList<StoredItem>>(items);
    }

    public Task<int> DeleteStagedBeforeAsync(DateTimeOffset cutoff, CancellationToken cancellationToken = default)
    {
        int count = 0;
        foreach (var file in new DirectoryInfo(_staging).EnumerateFiles())
        {
            if (file.LastWriteTimeUtc >= cutoff.UtcDateTime) continue;
            try { file.Delete(); count++; }
            catch (IOException) { } // went away meanwhile (committed or discarded)
        }
        return Task.FromResult(count);
    }

    private string PathOf(string videoId) => Path.Combine(_root, StorageNames.VideoId(videoId) + Extension);

    // Only files this store staged may be committed or discarded (the path comes from a caller).
    private string StagedPath(StagedSource staged)
    {
        var full = Path.GetFullPath(staged.Path);
        return Path.GetDirectoryName(full) == _staging ? full : throw new ArgumentException("not a file staged by this store", nameof(staged));
    }
}
