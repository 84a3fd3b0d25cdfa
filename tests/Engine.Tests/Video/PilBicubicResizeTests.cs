using VQToken.Ingestion;

namespace VQToken.Engine.Tests.Video;

/// <summary>The PIL bicubic resampler on cases small enough to work out by hand (PIL itself checks it in
/// <see cref="PilResizeParityTests"/>).</summary>
public class PilBicubicResizeTests
{
    private static byte[] Resize(byte[] rgb, int width, int height, int outWidth, int outHeight)
    {
        var output = new byte[outWidth * outHeight * 3];
        new PilBicubicResize(width, height, outWidth, outHeight).Resize(rgb, output);
        return output;
    }

    /// <summary>A row of grey pixels as RGB bytes.</summary>
    private static byte[] Greys(params byte[] levels) => levels.SelectMany(v => new[] { v, v, v }).ToArray();

    [Fact]
    public void Same_size_returns_the_same_bytes()
    {
        var image = new byte[37 * 21 * 3];
        new Random(1).NextBytes(image);

        Assert.Equal(image, Resize(image, 37, 21, 37, 21));
    }

    [Theory]
    [InlineData(1920, 1080, 384, 384)]
    [InlineData(3, 2, 384, 384)]
    [InlineData(1, 500, 384, 384)]
    [InlineData(640, 384, 384, 384)]
    [InlineData(384, 100, 384, 384)]
    public void A_constant_image_stays_constant(int width, int height, int outWidth, int outHeight)
    {
        var image = Enumerable.Repeat(new byte[] { 10, 128, 250 }, width * height).SelectMany(p => p).ToArray();

        var output = Resize(image, width, height, outWidth, outHeight);

        for (int i = 0; i < output.Length; i += 3)
            Assert.Equal((10, 128, 250), (output[i], output[i + 1], output[i + 2]));
    }

    [Fact]
    public void Shrinking_widens_the_kernel_over_every_source_pixel()
    {
        // 4 -> 1: support 8 covers all four pixels at distances 0.375, 0.125, 0.125, 0.375 (in output
        // pixels); the far one weighs f(0.375) / (2 f(0.125) + 2 f(0.375)) = 0.21507, so 255 gives 54.8.
        // An unwidened kernel would weigh it f(1.5) < 0 and give 0.
        Assert.Equal(Greys(55), Resize(Greys(0, 0, 0, 255), 4, 1, 1, 1));
        Assert.Equal(Greys(55), Resize(Greys(0, 0, 0, 255), 1, 4, 1, 1));
    }

    [Fact]
    public void Enlarging_a_step_overshoots_and_clips()
    {
        // 2 -> 4: output 1 sits at 0.75 px: weights f(0.25) = 0.8672 and f(0.75) = 0.2266, so 255 * 0.2071 = 52.8;
        // output 0 weighs the 255 with f(1.25) < 0 and clips to 0.
        Assert.Equal(Greys(0, 53, 202, 255), Resize(Greys(0, 255), 2, 1, 4, 1));
        Assert.Equal(Greys(0, 53, 202, 255), Resize(Greys(0, 255), 1, 2, 1, 4));
    }

    [Fact]
    public void A_one_pixel_image_fills_the_whole_output()
    {
        var output = Resize([200, 7, 99], 1, 1, 5, 3);

        Assert.Equal(Enumerable.Repeat(new byte[] { 200, 7, 99 }, 15).SelectMany(p => p), output);
    }

    [Fact]
    public void Each_axis_is_resized_on_its_own()
    {
        // Rows that differ only vertically keep every column equal when only the width changes, and vice versa.
        var columns = Greys(0, 90, 255, 30, 60, 10).Concat(Greys(0, 90, 255, 30, 60, 10)).ToArray();       // 6x2
        var wide = Resize(columns, 6, 2, 3, 2);
        Assert.Equal(wide.AsSpan(0, 9).ToArray(), wide.AsSpan(9, 9).ToArray());
        Assert.Equal(Resize(Greys(0, 90, 255, 30, 60, 10), 6, 1, 3, 1), wide.AsSpan(0, 9).ToArray());

        var tall = Resize(Greys(0, 90, 255, 30, 60, 10), 1, 6, 1, 3);
        Assert.Equal(Resize(Greys(0, 90, 255, 30, 60, 10), 6, 1, 3, 1), tall);
    }

    [Fact]
    public void Sizes_and_buffers_are_checked()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new PilBicubicResize(0, 10, 384, 384));
        Assert.Throws<ArgumentOutOfRangeException>(() => new PilBicubicResize(10, 10, 384, 0));
        var resize = new PilBicubicResize(4, 4, 2, 2);
        Assert.Throws<ArgumentException>(() => resize.Resize(new byte[47], new byte[12]));
        Assert.Throws<ArgumentException>(() => resize.Resize(new byte[48], new byte[11]));
    }
}
