using VQToken.Ingestion;

namespace VQToken.Engine.Tests.Video;

public class FrameSelectionTests
{
    // Expected values are numpy's: np.linspace(0, total - 1, n, dtype=int).
    [Theory]
    [InlineData(100, 8, new[] { 0, 14, 28, 42, 56, 70, 84, 99 })]
    [InlineData(20, 8, new[] { 0, 2, 5, 8, 10, 13, 16, 19 })]
    [InlineData(3, 5, new[] { 0, 0, 1, 1, 2 })]
    [InlineData(1, 4, new[] { 0, 0, 0, 0 })]
    [InlineData(300, 1, new[] { 0 })]
    [InlineData(2, 2, new[] { 0, 1 })]
    public void Uniform_matches_numpy_linspace_with_int_dtype(long total, int count, int[] expected)
    {
        Assert.Equal(expected, FrameSelection.Uniform(total, count));
    }

    [Fact]
    public void Uniform_over_a_long_video_spans_first_to_last_frame()
    {
        var indices = FrameSelection.Uniform(18000, 32);

        Assert.Equal(32, indices.Length);
        Assert.Equal(0, indices[0]);
        Assert.Equal(17999, indices[^1]);
        Assert.Equal(580, indices[1]);   // floor(17999 / 31) = floor(580.6)
        Assert.True(indices.Zip(indices.Skip(1)).All(p => p.First < p.Second));
    }

    [Fact]
    public void By_rate_takes_every_rounded_stride_and_falls_back_to_uniform_past_the_cap()
    {
        Assert.Equal(new[] { 0, 15, 30, 45 }, FrameSelection.ByRate(60, videoFps: 30, samplesPerSecond: 2, maxFrames: 32));
        Assert.Equal(FrameSelection.Uniform(3000, 32), FrameSelection.ByRate(3000, videoFps: 30, samplesPerSecond: 2, maxFrames: 32));
        // Python's round(2.5) is 2 (half to even).
        Assert.Equal(new[] { 0, 2, 4 }, FrameSelection.ByRate(6, videoFps: 25, samplesPerSecond: 10, maxFrames: 32));
    }

    [Fact]
    public void Frame_times_are_source_index_over_the_average_frame_rate_to_the_millisecond()
    {
        // NTSC 29.97 fps: frame 1799 is at 1799 / (30000 / 1001) = 60.026... s.
        Assert.Equal(new[] { 0.0, 30.03, 60.027 }, FrameSelection.Times([0, 900, 1799], 30000.0 / 1001));
        Assert.Equal(new[] { 0.0, 0.0, 0.04 }, FrameSelection.Times([0, 0, 1], 25));    // repeated indices repeat their time
        Assert.Throws<ArgumentOutOfRangeException>(() => FrameSelection.Times([0], 0));
    }

    [Theory]
    [InlineData(600, 30, 10.0, 12.0, 300, 60)]     // [10 s, 12 s) at 30 fps: frames 300..359
    [InlineData(600, 30, 10.01, 12.0, 301, 59)]    // frame 300 is at 10 s, before the start
    [InlineData(600, 30, null, 1.0, 0, 30)]
    [InlineData(600, 30, 19.5, null, 585, 15)]
    [InlineData(600, 30, 15.0, 99.0, 450, 150)]    // an end past the last frame stops at it
    [InlineData(600, 30, 5.01, 5.02, 151, 0)]      // no frame time inside the range
    [InlineData(600, 30, null, null, 0, 600)]
    public void Range_keeps_the_frames_whose_times_lie_in_start_to_end(long total, double fps, double? start, double? end, long first, long count)
    {
        Assert.Equal((first, count), FrameSelection.Range(total, fps, start, end));
    }

    [Fact]
    public void Choose_samples_inside_the_range_and_returns_source_frame_numbers()
    {
        // Uniform: np.linspace(0, 59, 4, dtype=int) = 0, 19, 39, 59 over frames 300..359.
        Assert.Equal(new[] { 300, 319, 339, 359 }, FrameSelection.Choose(600, 30, 4, null, 10, 12));
        // By rate: 2 per second at 30 fps is every 15th frame, counted from the range's first frame.
        Assert.Equal(new[] { 300, 315, 330, 345 }, FrameSelection.Choose(600, 30, 32, 2, 10, 12));
        // By rate past the cap falls back to uniform over the range.
        Assert.Equal(new[] { 300, 359 }, FrameSelection.Choose(600, 30, 2, 30, 10, 12));
        Assert.Equal(FrameSelection.Uniform(600, 8), FrameSelection.Choose(600, 30, 8, null, null, null));
        Assert.Null(FrameSelection.Choose(600, 30, 8, null, 5.01, 5.02));
    }

    [Fact]
    public void One_frame_per_second_of_a_twenty_minute_video_is_1200_frames_capped_to_1024_uniform()
    {
        var byRate = FrameSelection.Choose(20 * 60 * 4, 4, 1200, 1, null, null)!;
        Assert.Equal(1200, byRate.Length);
        Assert.Equal(Enumerable.Range(0, 1200).Select(i => i * 4), byRate);

        var capped = FrameSelection.Choose(20 * 60 * 4, 4, 1024, 1, null, null)!;
        Assert.Equal(FrameSelection.Uniform(4800, 1024), capped);
    }
}
