namespace VQToken.Engine.Tests.Video;

/// <summary>Tiny videos made once with ffmpeg for all the video tests, deleted afterwards.</summary>
public sealed class GeneratedVideos : IDisposable
{
    public const int LosslessSize = 384;
    public const int LosslessFrames = 12;

    public GeneratedVideos()
    {
        Dir = Directory.CreateTempSubdirectory("vqtoken-videos-").FullName;
        const string pattern = "testsrc2=size={0}:rate=10:duration={1}";
        string Src(string size, double seconds) => string.Format(System.Globalization.CultureInfo.InvariantCulture, pattern, size, seconds);

        H264Mp4 = Make("h264.mp4", "-f", "lavfi", "-i", Src("160x120", 2), "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p");
        FaststartMp4 = Make("faststart.mp4", "-f", "lavfi", "-i", Src("160x120", 2), "-c:v", "libx264", "-preset", "ultrafast",
            "-pix_fmt", "yuv420p", "-movflags", "+faststart");
        Vp9Webm = Make("vp9.webm", "-f", "lavfi", "-i", Src("96x64", 1), "-c:v", "libvpx-vp9", "-deadline", "realtime", "-cpu-used", "8", "-b:v", "200k");
        MjpegAvi = Make("mjpeg.avi", "-f", "lavfi", "-i", Src("64x48", 1), "-c:v", "mjpeg", "-q:v", "3");
        OneFrameMp4 = Make("one-frame.mp4", "-f", "lavfi", "-i", Src("64x48", 1), "-frames:v", "1", "-c:v", "libx264", "-pix_fmt", "yuv420p");
        PortraitMp4 = Make("portrait.mp4", "-f", "lavfi", "-i", Src("48x96", 1), "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p");
        WithAudioMp4 = Make("with-audio.mp4", "-f", "lavfi", "-i", Src("64x48", 1), "-f", "lavfi", "-i", "sine=frequency=440:duration=1",
            "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-c:a", "aac", "-shortest");
        // Left half red, right half blue; the second one carries rotate=90 (a display matrix in the mp4).
        const string halves = "color=c=red:size=32x48:rate=10:duration=1[l];color=c=blue:size=32x48:rate=10:duration=1[r];[l][r]hstack";
        SplitMp4 = Make("split.mp4", "-filter_complex", halves, "-c:v", "libx264rgb", "-qp", "0");
        RotatedMp4 = Make("rotated.mp4", "-i", SplitMp4, "-c", "copy", "-metadata:s:v:0", "rotate=90");
        // Exact-parity source: lossless RGB H.264 at the model's size, and the same frames as raw rgb24.
        var lossless = $"testsrc2=size={LosslessSize}x{LosslessSize}:rate=10,trim=end_frame={LosslessFrames}";
        LosslessMkv = Make("lossless.mkv", "-f", "lavfi", "-i", lossless, "-c:v", "libx264rgb", "-qp", "0");
        LossyMp4 = Make("lossy.mp4", "-f", "lavfi", "-i", lossless, "-c:v", "libx264", "-crf", "18", "-pix_fmt", "yuv420p");
        ReferenceRgb = Make("reference.rgb", "-f", "lavfi", "-i", lossless, "-f", "rawvideo", "-pix_fmt", "rgb24");
    }

    public string Dir { get; }
    public string H264Mp4 { get; }
    public string FaststartMp4 { get; }
    public string Vp9Webm { get; }
    public string MjpegAvi { get; }
    public string OneFrameMp4 { get; }
    public string PortraitMp4 { get; }
    public string WithAudioMp4 { get; }
    public string SplitMp4 { get; }
    public string RotatedMp4 { get; }
    public string LosslessMkv { get; }
    public string LossyMp4 { get; }
    /// <summary>The frames of <see cref="LosslessMkv"/> as raw rgb24, straight from the generator.</summary>
    public string ReferenceRgb { get; }

    /// <summary>One solid colour, 64x48, 5 frames; lossless (RGB) or ordinary yuv420p H.264.</summary>
    public string SolidColour(string hex, bool lossless)
    {
        var name = $"solid-{hex}-{(lossless ? "rgb" : "yuv")}.mp4";
        var path = Path.Combine(Dir, name);
        if (File.Exists(path)) return path;
        string[] codec = lossless ? ["-c:v", "libx264rgb", "-qp", "0"] : ["-c:v", "libx264", "-pix_fmt", "yuv420p", "-crf", "18"];
        return Make(name, ["-f", "lavfi", "-i", $"color=c=0x{hex}:size=64x48:rate=10:duration=0.5,format=rgb24", .. codec]);
    }

    public string Make(string name, params string[] args)
    {
        var path = Path.Combine(Dir, name);
        FfmpegTool.Run([.. args, path]);
        return path;
    }

    public void Dispose() => Directory.Delete(Dir, recursive: true);
}
