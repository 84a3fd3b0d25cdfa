using VQToken.Api.Storage;
using VQToken.Api.Videos;

namespace VQToken.Api.Cache;

/// <summary>Cache entries as <c>{root}/{videoId}/{fingerprint}.vqc</c> (<see cref="CacheEntryFile"/>, safetensors),
/// written atomically; a file's modification time is its last use.</summary>
public sealed class FileCompressedCache(string root, TimeProvider time) : ICompressedCache
{
    private const string Extension = ".vqc";
    private readonly string _root = Directory.CreateDirectory(Path.GetFullPath(root)).FullName;

    public async Task<CacheLookup> GetAsync(string videoId, string modelFingerprint, CancellationToken cancellationToken = default)
    {
        var path = PathOf(videoId, modelFingerprint);
        byte[] bytes;
        try
        {
            bytes = await File.ReadAllBytesAsync(path, cancellationToken);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            return CacheLookup.Miss;
        }
        var lookup = CacheEntryFile.Read(bytes);
        if (lookup.Status == CacheLookupStatus.Hit && lookup.Entry!.ModelFingerprint != modelFingerprint)
            return CacheLookup.Corrupt($"entry stored under fingerprint {modelFingerprint} says {lookup.Entry.ModelFingerprint}");
        if (lookup.Status == CacheLookupStatus.Hit) TouchIfPresent(path);
        return lookup;
    }

    public Task PutAsync(string videoId, CacheEntry entry, CancellationToken cancellationToken = default)
    {
        var bytes = CacheEntryFile.Write(entry);
        var path = PathOf(videoId, entry.ModelFingerprint);
        AtomicFile.WriteAllBytes(path, bytes);
        File.SetLastWriteTimeUtc(path, time.GetUtcNow().UtcDateTime);
        return Task.CompletedTask;
    }

    public Task<bool> DeleteAsync(string videoId, string modelFingerprint, CancellationToken cancellationToken = default)
    {
        var path = PathOf(videoId, modelFingerprint);
        bool existed = File.Exists(path);
        File.Delete(path);
        TryRemoveEmptyDirectory(Path.GetDirectoryName(path)!);
        return Task.FromResult(existed);
    }

    public Task<int> DeleteAllAsync(string videoId, CancellationToken cancellationToken = default)
    {
        var directory = Path.Combine(_root, StorageNames.VideoId(videoId));
        if (!Directory.Exists(directory)) return Task.FromResult(0);
        int count = 0;
        foreach (var file in Directory.EnumerateFiles(directory, "*" + Extension))
        {
            File.Delete(file);
            count++;
        }
        TryRemoveEmptyDirectory(directory);
        return Task.FromResult(count);
    }

    public Task<IReadOnlyList<StoredItem>> ListAsync(CancellationToken cancellationToken = default)
    {
        var items = new List<StoredItem>();
        foreach (var directory in new DirectoryInfo(_root).EnumerateDirectories())
        {
            if (!VideoId.IsValid(directory.Name)) continue;
            try
            {
                foreach (var file in directory.EnumerateFiles("*" + Extension))
                    items.Add(new StoredItem(directory.Name, Path.GetFileNameWithoutExtension(file.Name), file.Length, file.LastWriteTimeUtc));
            }
            catch (Exception e) when (e is DirectoryNotFoundException or FileNotFoundException) { } // deleted while listed
        }
        return Task.FromResult<IReadOnlyList<StoredItem>>(items);
    }

    private string PathOf(string videoId, string fingerprint)
    {
        return Path.Combine(_root, StorageNames.VideoId(videoId), StorageNames.Fingerprint(fingerprint) + Extension);
    }

    private void TouchIfPresent(string path)
    {
        try { File.SetLastWriteTimeUtc(path, time.GetUtcNow().UtcDateTime); }
        catch (FileNotFoundException) { } // evicted between read and touch
    }

    private static void TryRemoveEmptyDirectory(string directory)
    {
        try { if (Directory.Exists(directory) && !Directory.EnumerateFileSystemEntries(directory).Any()) Directory.Delete(directory); }
        catch (IOException) { } // a concurrent put just created a file in it
    }
}
