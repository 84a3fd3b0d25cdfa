using System.Globalization;
using VQToken.Ingestion;
using Xunit.Abstractions;

namespace VQToken.Engine.Tests.Video;

/// <summary>The sampled frames against PIL's bicubic (the official processor's resize) run by python3 on the
/// same frames, decoded at their native size by ffmpeg.</summary>
[Collection(VideoCollection.Name)]
public class PilResizeParityTests(GeneratedVideos videos, ITestOutputHelper output)
{
    private const int S = 384;
    private static readonly FrameSampler Sampler = new(new VideoProbe(new VideoOptions()));

    public static TheoryData<string> Clips => ["1920x1080", "200x150", "720x1280", "384x640", "500x384", "rotated"];

    [Theory]
    [MemberData(nameof(Clips))]
    public async Task Sampled_frames_are_within_one_level_of_pil_bicubic_on_the_same_decoded_frames(string clip)
    {
        var path = Clip(clip);
        var sampled = await Sampler.SampleAsync(path, new FrameRequest(Count: 3));
        var (width, height) = (sampled.Video.Width, sampled.Video.Height);
        var distinct = sampled.FrameIndices.Distinct().Order().ToArray();
        var pil = PilReference.Resize(DecodeNative(path, distinct, $"scale={width}:{height}:flags=bicubic+full_chroma_int+accurate_rnd"),
            width, height, distinct.Length, S, S);

        var (max, mean) = Compare(sampled, distinct, pil);
        output.WriteLine($"{clip} ({width}x{height}): max {max}, mean {mean:0.0000} levels vs PIL");
        Assert.True(max <= 1, $"{clip}: differs from PIL by up to {max} levels (mean {mean:0.0000})");
    }

    [Fact]
    public async Task Pil_comparison_catches_the_swscale_bicubic_that_shrinks_without_widening_its_kernel()
    {
        var path = Clip("1920x1080");
        var sampled = await Sampler.SampleAsync(path, new FrameRequest(Count: 3));
        var distinct = sampled.FrameIndices.Distinct().Order().ToArray();
        var native = DecodeNative(path, distinct, "scale=1920:1080:flags=bicubic+full_chroma_int+accurate_rnd");
        var pil = PilReference.Resize(native, 1920, 1080, distinct.Length, S, S);
        var swscale = DecodeNative(path, distinct, $"scale={S}:{S}:flags=bicubic+full_chroma_int+accurate_rnd");

        var (max, mean) = Compare(swscale, pil);
        var (oursMax, oursMean) = Compare(sampled, distinct, pil);
        output.WriteLine($"swscale bicubic: max {max}, mean {mean:0.0000}; ours: max {oursMax}, mean {oursMean:0.0000} levels vs PIL");
        Assert.True(max > 1, $"swscale's resize came within {max} levels of PIL: the comparison would not tell them apart");
        Assert.True(oursMax <= 1, $"ours differs from PIL by up to {oursMax} levels");
    }

    [Theory]
    [InlineData(1, 1, 384, 384)]
    [InlineData(7, 3, 5, 9)]
    [InlineData(1000, 3, 384, 384)]
    [InlineData(2, 999, 1, 384)]
    [InlineData(3840, 2160, 384, 384)]
    [InlineData(383, 385, 384, 384)]
    public void Random_pixels_of_awkward_sizes_match_pil(int width, int height, int outWidth, int outHeight)
    {
        var image = new byte[width * height * 3];
        new Random(width * 7919 + height).NextBytes(image);
        var ours = new byte[outWidth * outHeight * 3];
        new PilBicubicResize(width, height, outWidth, outHeight).Resize(image, ours);

        var pil = PilReference.Resize(image, width, height, 1, outWidth, outHeight);

        var (max, mean) = Compare(ours, pil);
        output.WriteLine($"{width}x{height} -> {outWidth}x{outHeight}: max {max}, mean {mean:0.0000} levels vs PIL");
        Assert.True(max <= 1, $"differs from PIL by up to {max} levels (mean {mean:0.0000})");
    }

    /// <summary>The named clip, made on first use: testsrc2 (fine lines, text, gradients) as ordinary yuv420p H.264.</summary>
    private string Clip(string name)
    {
        if (name == "rotated") return videos.RotatedMp4;
        var path = Path.Combine(videos.Dir, $"pil-{name}.mp4");
        return File.Exists(path) ? path : videos.Make($"pil-{name}.mp4", "-f", "lavfi", "-i", $"testsrc2=size={name}:rate=10:duration=1",
            "-c:v", "libx264", "-preset", "ultrafast", "-crf", "18", "-pix_fmt", "yuv420p");
    }

    /// <summary>Frames <paramref name="frames"/> (in order) as raw rgb24 through <paramref name="scale"/>, by our own ffmpeg run.</summary>
    private byte[] DecodeNative(string path, int[] frames, string scale)
    {
        var select = string.Join('+', frames.Select(i => string.Create(CultureInfo.InvariantCulture, $"eq(n,{i})")));
        var raw = Path.Combine(videos.Dir, $"native-{Guid.NewGuid():N}.rgb");
        try
        {
            FfmpegTool.Run("-i", path, "-vf", $"select='{select}',{scale},format=rgb24", "-fps_mode", "passthrough",
                "-f", "rawvideo", "-pix_fmt", "rgb24", raw);
            return File.ReadAllBytes(raw);
        }
        finally
        {
            File.Delete(raw);
        }
    }

    /// <summary>Sampled frame of each distinct index (the first position that holds it) against the reference frames.</summary>
    private static (int Max, double Mean) Compare(SampledFrames sampled, int[] distinct, byte[] reference)
    {
        const int frameBytes = S * S * 3;
        var ours = new byte[distinct.Length * frameBytes];
        for (int k = 0; k < distinct.Length; k++)
        {
            var position = Array.IndexOf(sampled.FrameIndices, distinct[k]);
            sampled.Rgb.Data.AsSpan(position * frameBytes, frameBytes).CopyTo(ours.AsSpan(k * frameBytes));
        }
        return Compare(ours, reference);
    }

    private static (int Max, double Mean) Compare(byte[] ours, byte[] reference)
    {
        Assert.Equal(reference.Length, ours.Length);
        int max = 0;
        long total = 0;
        for (int i = 0; i < ours.Length; i++)
        {
            var d = Math.Abs(ours[i] - reference[i]);
            max = Math.Max(max, d);
            total += d;
        }
        return (max, (double)total / ours.Length);
    }
}
