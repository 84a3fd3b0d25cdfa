using Microsoft.Extensions.Logging.Abstractions;
using VQToken.Api.Cache;
using VQToken.Api.Processing;
using VQToken.Api.Videos;

namespace VQToken.Api.Tests.Storage;

public sealed class FileStorageBackend : StorageBackend
{
    private LocalJobQueue? _queue;

    public FileStorageBackend()
    {
        Videos = ReopenVideos();
        Cache = new FileCompressedCache(Path.Combine(Directory, "cache"), Time);
        Sources = new DirectorySourceStore(Path.Combine(Directory, "sources"), Time);
    }

    public override IVideoStore Videos { get; }
    public override ICompressedCache Cache { get; }
    public override ISourceStore Sources { get; }

    public override IVideoStore ReopenVideos() => new FileVideoStore(Path.Combine(Directory, "videos"), Time, NullLogger<FileVideoStore>.Instance);

    // Real time: the in-process queue waits on real timers for the idle timeout.
    public override IJobQueue Consumer(string name, TimeSpan idleTimeout) => _queue ??= new LocalJobQueue(TimeProvider.System, idleTimeout);

    public override async Task DamageEntryAsync(string videoId, string fingerprint, Func<byte[], byte[]> damage)
    {
        var path = Path.Combine(Directory, "cache", videoId, fingerprint + ".vqc");
        await System.IO.File.WriteAllBytesAsync(path, damage(await System.IO.File.ReadAllBytesAsync(path)));
    }
}
