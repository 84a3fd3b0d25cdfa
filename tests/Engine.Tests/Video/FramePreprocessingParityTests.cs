using TorchSharp;
using VQToken.Ingestion;

namespace VQToken.Engine.Tests.Video;

/// <summary>The sampled tensor against an independent computation of (rgb / 255 - 0.5) / 0.5 on the
/// generator's own pixels.</summary>
[Collection(VideoCollection.Name)]
public class FramePreprocessingParityTests(GeneratedVideos videos)
{
    private const int S = GeneratedVideos.LosslessSize;
    private static readonly FrameSampler Sampler = new(new VideoProbe(new VideoOptions()));

    [Fact]
    public async Task Lossless_rgb_video_at_model_size_matches_the_reference_pixels_exactly()
    {
        var sampled = await Sampler.SampleAsync(videos.LosslessMkv, new FrameRequest(Count: 5));
        var reference = await File.ReadAllBytesAsync(videos.ReferenceRgb);

        Assert.Equal(new[] { 0, 2, 5, 8, 11 }, sampled.FrameIndices);
        for (int k = 0; k < sampled.FrameIndices.Length; k++)
        {
            var diff = MaxDifference(sampled.Pixels(), k, reference, sampled.FrameIndices[k]);
            Assert.True(diff < 1e-6, $"frame {k} (source {sampled.FrameIndices[k]}) differs by {diff}");
        }
    }

    [Fact]
    public async Task Lossy_yuv420_video_stays_close_to_the_reference_pixels()
    {
        var sampled = await Sampler.SampleAsync(videos.LossyMp4, new FrameRequest(Count: 3));
        var reference = await File.ReadAllBytesAsync(videos.ReferenceRgb);

        for (int k = 0; k < sampled.FrameIndices.Length; k++)
        {
            var mean = MeanDifference(sampled.Pixels(), k, reference, sampled.FrameIndices[k]);
            Assert.True(mean < 0.05, $"frame {k} mean difference {mean}");
        }
    }

    [Theory]
    [InlineData("ff0000")]
    [InlineData("00ff00")]
    [InlineData("0000ff")]
    [InlineData("ffffff")]
    [InlineData("000000")]
    [InlineData("336699")]
    public async Task Solid_colour_survives_decode_and_bicubic_resize(string hex)
    {
        var rgb = Convert.FromHexString(hex);
        var exact = await Sampler.SampleAsync(videos.SolidColour(hex, lossless: true), new FrameRequest(Count: 2));
        var lossy = await Sampler.SampleAsync(videos.SolidColour(hex, lossless: false), new FrameRequest(Count: 2));

        foreach (var (y, x) in new[] { (0, 0), (0, S - 1), (S - 1, 0), (S - 1, S - 1), (S / 2, S / 2), (100, 250) })
            for (int c = 0; c < 3; c++)
            {
                var expected = (rgb[c] / 255f - 0.5f) / 0.5f;
                Assert.Equal(expected, Pixel(exact.Pixels(), 1, c, y, x), 1e-6);
                var lossyValue = Pixel(lossy.Pixels(), 1, c, y, x);
                Assert.True(Math.Abs(lossyValue - expected) < 0.06, $"lossy channel {c} at ({y},{x}): {lossyValue} vs {expected}");
            }
    }

    private static float Pixel(torch.Tensor frames, int n, int c, int y, int x)
    {
        using var value = frames[n, c, y, x];
        return value.item<float>();
    }

    /// <summary>Reference frame <paramref name="source"/> from the raw rgb24 bytes, normalised by hand.</summary>
    private static float[] Expected(byte[] reference, int source)
    {
        var expected = new float[3 * S * S];                       // CHW
        var offset = (long)source * S * S * 3;
        for (int y = 0; y < S; y++)
            for (int x = 0; x < S; x++)
                for (int c = 0; c < 3; c++)
                    expected[c * S * S + y * S + x] = (reference[offset + (y * S + x) * 3 + c] / 255f - 0.5f) / 0.5f;
        return expected;
    }

    private static float[] Actual(torch.Tensor frames, int k)
    {
        using var frame = frames[k];
        return frame.data<float>().ToArray();
    }

    private static double MaxDifference(torch.Tensor frames, int k, byte[] reference, int source) =>
        Actual(frames, k).Zip(Expected(reference, source)).Max(p => Math.Abs(p.First - p.Second));

    private static double MeanDifference(torch.Tensor frames, int k, byte[] reference, int source) =>
        Actual(frames, k).Zip(Expected(reference, source)).Average(p => Math.Abs(p.First - p.Second));
}
