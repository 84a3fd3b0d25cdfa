using System.Threading.Channels;
using TorchSharp;
using VQToken.Ingestion;

namespace VQToken.Engine.Tests.Video;

[Collection(VideoCollection.Name)]
public class FrameSamplerTests(GeneratedVideos videos)
{
    private static FrameSampler Sampler(VideoOptions? options = null) => new(new VideoProbe(options ?? new VideoOptions()));

    public static TheoryData<string> Containers => ["h264.mp4", "vp9.webm", "mjpeg.avi", "one-frame.mp4", "portrait.mp4", "rotated.mp4", "with-audio.mp4"];

    [Theory]
    [MemberData(nameof(Containers))]
    public async Task Every_container_gives_the_requested_frames_as_normalised_384_square_rgb(string name)
    {
        var sampled = await Sampler().SampleAsync(Path.Combine(videos.Dir, name), new FrameRequest(Count: 8));

        Assert.Equal(new long[] { 8, 3, 384, 384 }, sampled.Pixels().shape);
        Assert.Equal(torch.float32, sampled.Pixels().dtype);
        var min = sampled.Pixels().min().item<float>();
        var max = sampled.Pixels().max().item<float>();
        Assert.InRange(min, -1f, 1f);
        Assert.InRange(max, -1f, 1f);
        Assert.True(max - min > 0.5f, $"frames of {name} look blank: min {min}, max {max}");
        Assert.Equal(8, sampled.FrameIndices.Length);
    }

    [Fact]
    public async Task Frames_are_picked_like_numpy_linspace_over_the_counted_frames()
    {
        var sampled = await Sampler().SampleAsync(videos.H264Mp4, new FrameRequest(Count: 8));

        Assert.Equal(20, sampled.Video.FrameCount);
        Assert.Equal(new[] { 0, 2, 5, 8, 10, 13, 16, 19 }, sampled.FrameIndices);
        Assert.Equal(8, sampled.DecodedFrames);
    }

    [Fact]
    public async Task Video_shorter_than_the_request_repeats_frames()
    {
        var sampled = await Sampler().SampleAsync(videos.OneFrameMp4, new FrameRequest(Count: 4));

        Assert.Equal(new[] { 0, 0, 0, 0 }, sampled.FrameIndices);
        Assert.Equal(new long[] { 4, 3, 384, 384 }, sampled.Pixels().shape);
        using var first = sampled.Pixels()[0];
        for (int i = 1; i < 4; i++)
        {
            using var other = sampled.Pixels()[i];
            Assert.True(first.allclose(other, rtol: 0, atol: 0), $"frame {i} differs from frame 0");
        }
    }

    [Fact]
    public async Task Sampling_by_rate_takes_every_nth_frame()
    {
        var sampled = await Sampler().SampleAsync(videos.H264Mp4, new FrameRequest(Count: 32, FramesPerSecond: 2));

        Assert.Equal(new[] { 0, 5, 10, 15 }, sampled.FrameIndices);
        Assert.Equal(4, sampled.Pixels().shape[0]);
    }

    [Fact]
    public async Task A_time_range_samples_only_its_frames_by_their_source_numbers()
    {
        var all = await Sampler().SampleAsync(videos.H264Mp4, new FrameRequest(Count: 20));
        var ranged = await Sampler().SampleAsync(videos.H264Mp4, new FrameRequest(Count: 4, Start: 1.0));
        var byRate = await Sampler().SampleAsync(videos.H264Mp4, new FrameRequest(Count: 32, FramesPerSecond: 5, Start: 0.5, End: 1.5));

        Assert.Equal(Enumerable.Range(0, 20), all.FrameIndices);
        Assert.Equal(new[] { 10, 13, 16, 19 }, ranged.FrameIndices);   // 10 fps: [1 s, 2 s) is frames 10..19
        Assert.Equal(new[] { 5, 7, 9, 11, 13 }, byRate.FrameIndices);   // every 2nd frame of 5..14
        for (int i = 0; i < ranged.FrameIndices.Length; i++)
        {
            using var expected = all.Pixels()[ranged.FrameIndices[i]];
            using var got = ranged.Pixels()[i];
            Assert.True(expected.allclose(got, rtol: 0, atol: 0), $"frame {i} of the range is not source frame {ranged.FrameIndices[i]}");
        }
    }

    [Theory]
    [InlineData(3.0, null)]     // starts after the 2 s video
    [InlineData(0.51, 0.52)]    // holds no frame time (10 fps)
    [InlineData(1.0, 0.5)]      // ends before it starts
    public async Task A_range_without_frames_is_an_invalid_frame_request(double start, double? end)
    {
        var error = await Assert.ThrowsAsync<VideoIngestException>(() => Sampler().SampleAsync(videos.H264Mp4, new FrameRequest(Count: 4, Start: start, End: end)));
        Assert.Equal(VideoErrorKind.InvalidFrameRequest, error.Kind);
    }

    [Fact]
    public async Task Streamed_frames_are_the_sampled_frames_in_chunks_in_sampling_order()
    {
        var sampler = Sampler();
        var info = await sampler.ProbeAsync(videos.H264Mp4);
        var all = await sampler.SampleAsync(videos.H264Mp4, info, new FrameRequest(Count: 7));
        var indices = sampler.ChooseIndices(info, new FrameRequest(Count: 7));
        var channel = Channel.CreateBounded<RgbFrames>(1);

        var streaming = sampler.StreamAsync(videos.H264Mp4, info, indices, channel.Writer, chunkFrames: 3);
        var chunks = new List<RgbFrames>();
        await foreach (var chunk in channel.Reader.ReadAllAsync()) chunks.Add(chunk);

        Assert.Equal(7, await streaming);
        Assert.Equal(new[] { 3, 3, 1 }, chunks.Select(c => c.Count));
        Assert.Equal(all.Rgb.Data, chunks.SelectMany(c => c.Data).ToArray());
    }

    [Fact]
    public async Task A_thousand_frames_of_a_long_video_are_selected_in_one_ffmpeg_run()
    {
        var video = videos.Make("long.mp4", "-f", "lavfi", "-i", "testsrc=size=64x48:rate=2:duration=600", "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p");
        var sampler = Sampler();
        var info = await sampler.ProbeAsync(video);
        var indices = sampler.ChooseIndices(info, new FrameRequest(Count: 1024, FramesPerSecond: 1));
        var channel = Channel.CreateBounded<RgbFrames>(2);

        var streaming = sampler.StreamAsync(video, info, indices, channel.Writer, chunkFrames: 16);
        int frames = 0;
        await foreach (var chunk in channel.Reader.ReadAllAsync()) frames += chunk.Count;

        Assert.Equal(Enumerable.Range(0, 600).Select(i => 2 * i), indices);   // 1200 frames at 2 fps, one per second
        Assert.Equal(600, await streaming);   // every chosen frame decoded, none filled in
        Assert.Equal(600, frames);
    }

    [Fact]
    public async Task A_stream_whose_reader_stops_ends_its_ffmpeg_run_with_the_error()
    {
        var sampler = Sampler();
        var info = await sampler.ProbeAsync(videos.H264Mp4);
        var channel = Channel.CreateBounded<RgbFrames>(1);
        var streaming = sampler.StreamAsync(videos.H264Mp4, info, sampler.ChooseIndices(info, new FrameRequest(Count: 20)), channel.Writer, chunkFrames: 1);
        await channel.Reader.ReadAsync();

        channel.Writer.TryComplete(new ChannelClosedException("the reader is gone"));

        await Assert.ThrowsAsync<ChannelClosedException>(() => streaming.WaitAsync(TimeSpan.FromSeconds(30)));
    }

    [Fact]
    public async Task Rotation_metadata_is_honoured()
    {
        var upright = await Sampler().SampleAsync(videos.SplitMp4, new FrameRequest(Count: 1));
        var rotated = await Sampler().SampleAsync(videos.RotatedMp4, new FrameRequest(Count: 1));

        // The source: red on the left, blue on the right.
        Assert.Equal("red", ColourAt(upright.Pixels(), 192, 20));
        Assert.Equal("blue", ColourAt(upright.Pixels(), 192, 363));
        // Turned a quarter: the halves are now top and bottom, and each row is one colour.
        Assert.Contains(rotated.Video.Rotation, new[] { 90, 270 });
        Assert.Equal((48, 64), (rotated.Video.Width, rotated.Video.Height));
        var top = ColourAt(rotated.Pixels(), 20, 192);
        var bottom = ColourAt(rotated.Pixels(), 363, 192);
        Assert.NotEqual(top, bottom);
        Assert.Equal(top, ColourAt(rotated.Pixels(), 20, 20));
        Assert.Equal(top, ColourAt(rotated.Pixels(), 20, 363));
    }

    [Fact]
    public async Task Asking_for_more_frames_than_the_cap_is_a_typed_error()
    {
        var error = await Assert.ThrowsAsync<VideoIngestException>(() =>
            Sampler(new VideoOptions { MaxFrames = 16 }).SampleAsync(videos.H264Mp4, new FrameRequest(Count: 17)));
        Assert.Equal(VideoErrorKind.InvalidFrameRequest, error.Kind);
    }

    [Fact]
    public async Task Video_longer_than_the_limit_is_refused()
    {
        var error = await Assert.ThrowsAsync<VideoIngestException>(() =>
            Sampler(new VideoOptions { MaxDurationSeconds = 1.5 }).SampleAsync(videos.H264Mp4));
        Assert.Equal(VideoErrorKind.TooLong, error.Kind);
    }

    [Fact]
    public async Task Video_above_the_resolution_limit_is_refused_in_either_orientation()
    {
        var options = new VideoOptions { MaxLongSide = 90, MaxShortSide = 90 };
        var landscape = await Assert.ThrowsAsync<VideoIngestException>(() => Sampler(options).SampleAsync(videos.H264Mp4));
        var portrait = await Assert.ThrowsAsync<VideoIngestException>(() => Sampler(options).SampleAsync(videos.PortraitMp4));
        Assert.Equal(VideoErrorKind.ResolutionTooHigh, landscape.Kind);
        Assert.Equal(VideoErrorKind.ResolutionTooHigh, portrait.Kind);
    }

    [Theory]
    [InlineData(100_000, 48)]
    [InlineData(40_000, 40_000)]
    public async Task Frame_size_past_the_limits_is_refused_before_decoding_at_native_size(int width, int height)
    {
        var info = await new VideoProbe(new VideoOptions()).ProbeAsync(videos.H264Mp4);

        var error = await Assert.ThrowsAsync<VideoIngestException>(() =>
            Sampler(new VideoOptions { MaxLongSide = 65536, MaxShortSide = 65536 }).SampleAsync(videos.H264Mp4, info with { Width = width, Height = height }, new FrameRequest(Count: 2)));
        Assert.Equal(VideoErrorKind.ResolutionTooHigh, error.Kind);
    }

    [Fact]
    public async Task Probe_reports_streams_duration_and_frames()
    {
        var info = await new VideoProbe(new VideoOptions()).ProbeAsync(videos.WithAudioMp4);

        Assert.True(info.HasAudio);
        Assert.Equal((64, 48), (info.Width, info.Height));
        Assert.Equal(10, info.FrameCount);
        Assert.Equal(10, info.FrameRate, 3);
        Assert.InRange(info.DurationSeconds, 0.9, 1.2);
    }

    /// <summary>Names the colour of pixel (y, x) of frame 0 in a [N, 3, H, W] tensor in [-1, 1].</summary>
    private static string ColourAt(torch.Tensor frames, int y, int x)
    {
        float C(int c)
        {
            using var value = frames[0, c, y, x];
            return value.item<float>();
        }
        var (r, g, b) = (C(0), C(1), C(2));
        if (r > 0.8f && g < -0.8f && b < -0.8f) return "red";
        if (b > 0.8f && r < -0.8f && g < -0.8f) return "blue";
        return $"({r:0.00},{g:0.00},{b:0.00})";
    }
}
