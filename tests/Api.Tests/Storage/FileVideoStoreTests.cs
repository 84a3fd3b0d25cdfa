using Microsoft.Extensions.Logging.Abstractions;
using VQToken.Api.Storage;
using VQToken.Api.Videos;

namespace VQToken.Api.Tests.Storage;

/// <summary>What only the file store has to handle: the debris a crash can leave in its directory.</summary>
public sealed class FileVideoStoreTests
{
    [Fact]
    public async Task Start_removes_half_written_temp_files_and_skips_an_unreadable_record()
    {
        using var data = new TempDirectory();
        var store = Open(data.Path);
        var kept = (await store.CreateOrGetExistingAsync(TestVideos.Queued())).Video;
        var temp = Path.Combine(data.Path, kept.Id + ".json" + AtomicFile.TempMarker + "abc");
        File.WriteAllText(temp, "{\"id\":");
        var garbled = VideoId.New(TestVideos.Epoch);
        File.WriteAllText(Path.Combine(data.Path, garbled + ".json"), "not json");

        var reopened = Open(data.Path);

        Assert.False(File.Exists(temp));
        Assert.NotNull(await reopened.GetAsync(kept.Id));
        Assert.Null(await reopened.GetAsync(garbled));
        Assert.False((await reopened.CreateOrGetExistingAsync(TestVideos.Queued(minute: 1))).Created);
    }

    private static FileVideoStore Open(string path) => new(path, TimeProvider.System, NullLogger<FileVideoStore>.Instance);
}
