using System.Text;
using VQToken.Ingestion;

namespace VQToken.Engine.Tests.Video;

/// <summary>Bytes that are not a usable video go through the same path as an upload (store, probe,
/// sample) and come out as one typed error each, leaving nothing in the temporary store.</summary>
[Collection(VideoCollection.Name)]
public sealed class HostileInputTests(GeneratedVideos videos) : IDisposable
{
    private readonly TempVideoStore _store = new(Directory.CreateTempSubdirectory("vqtoken-hostile-").FullName);
    private readonly VideoProbe _probe = new(new VideoOptions());

    public static TheoryData<string, VideoErrorKind> Cases => new()
    {
        { "empty", VideoErrorKind.NotAVideo },
        { "random bytes", VideoErrorKind.NotAVideo },
        { "text", VideoErrorKind.NotAVideo },
        { "png still image", VideoErrorKind.NotAVideo },
        { "jpeg still image", VideoErrorKind.NotAVideo },
        { "wav audio", VideoErrorKind.NotAVideo },
        { "audio-only mp4", VideoErrorKind.NoVideoStream },
        { "truncated mp4", VideoErrorKind.Undecodable },
        { "mp4 header then garbage", VideoErrorKind.Undecodable },
        { "hls playlist pointing at a local file", VideoErrorKind.NotAVideo },
        { "ffconcat list", VideoErrorKind.NotAVideo },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task Hostile_input_is_a_typed_error_and_leaves_no_temp_file(string name, VideoErrorKind expected)
    {
        await using var content = new MemoryStream(Bytes(name));

        var error = await Assert.ThrowsAsync<VideoIngestException>(async () =>
        {
            using var video = await _store.IngestAsync(content, 1L << 30, _probe, CancellationToken.None);
            var frames = await new FrameSampler(_probe).SampleAsync(video.Path, video.Info, new FrameRequest(Count: 4));
        });

        Assert.Equal(expected, error.Kind);
        Assert.False(string.IsNullOrWhiteSpace(error.Message));
        Assert.Empty(Directory.EnumerateFileSystemEntries(_store.Root));
    }

    [Fact]
    public async Task Truncated_mp4_with_its_index_in_front_samples_the_frames_that_are_present()
    {
        var whole = await File.ReadAllBytesAsync(videos.FaststartMp4);
        var path = Path.Combine(_store.Root, "half.mp4");
        await File.WriteAllBytesAsync(path, whole[..(whole.Length * 2 / 3)]);

        var sampled = await new FrameSampler(_probe).SampleAsync(path, new FrameRequest(Count: 4));

        Assert.Equal(new long[] { 4, 3, 384, 384 }, sampled.Pixels().shape);
        Assert.InRange(sampled.Video.FrameCount, 1, 19);
        File.Delete(path);
    }

    [Fact]
    public async Task Upload_past_the_byte_limit_is_too_large_and_leaves_no_temp_file()
    {
        await using var content = File.OpenRead(videos.H264Mp4);

        var error = await Assert.ThrowsAsync<VideoIngestException>(() => _store.IngestAsync(content, 1000, _probe, CancellationToken.None));

        Assert.Equal(VideoErrorKind.TooLarge, error.Kind);
        Assert.Empty(Directory.EnumerateFileSystemEntries(_store.Root));
    }

    private byte[] Bytes(string name) => name switch
    {
        "empty" => [],
        "random bytes" => RandomBytes(64 * 1024),
        "text" => Encoding.UTF8.GetBytes(string.Concat(Enumerable.Repeat("This is not a video, just a line of text.\n", 200))),
        "png still image" => Generated("still.png", "-f", "lavfi", "-i", "testsrc2=size=64x48", "-frames:v", "1"),
        "jpeg still image" => Generated("still.jpg", "-f", "lavfi", "-i", "testsrc2=size=64x48", "-frames:v", "1"),
        "wav audio" => Generated("tone.wav", "-f", "lavfi", "-i", "sine=frequency=440:duration=0.5"),
        "audio-only mp4" => Generated("tone.m4a", "-f", "lavfi", "-i", "sine=frequency=440:duration=0.5", "-c:a", "aac"),
        // The index (moov) of a default mp4 sits at the end: half a file has none.
        "truncated mp4" => File.ReadAllBytes(videos.H264Mp4)[..(int)(new FileInfo(videos.H264Mp4).Length / 2)],
        "mp4 header then garbage" => HeaderThenGarbage(File.ReadAllBytes(videos.FaststartMp4)),
        "hls playlist pointing at a local file" => Encoding.UTF8.GetBytes(
            $"#EXTM3U\n#EXT-X-TARGETDURATION:2\n#EXTINF:2.0,\nfile://{videos.H264Mp4}\n#EXT-X-ENDLIST\n"),
        "ffconcat list" => Encoding.UTF8.GetBytes($"ffconcat version 1.0\nfile '{videos.H264Mp4}'\n"),
        _ => throw new ArgumentOutOfRangeException(nameof(name)),
    };

    private byte[] Generated(string file, params string[] args) => File.ReadAllBytes(videos.Make(file, args));

    /// <summary>ftyp + moov intact (faststart), every byte of the media data replaced by noise.</summary>
    private static byte[] HeaderThenGarbage(byte[] mp4)
    {
        var mdat = mp4.AsSpan().IndexOf("mdat"u8) + 4;
        Assert.True(mdat > 4, "no mdat box in the faststart mp4");
        var garbage = RandomBytes(mp4.Length - mdat);
        return [.. mp4[..mdat], .. garbage];
    }

    private static byte[] RandomBytes(int count)
    {
        var bytes = new byte[count];
        new Random(1234).NextBytes(bytes);
        return bytes;
    }

    public void Dispose() => Directory.Delete(_store.Root, recursive: true);
}
