using System.Diagnostics;
using System.Globalization;

namespace VQToken.Cli;

/// <summary>Videos generated with ffmpeg's test sources (moving patterns, H.264) for benchmarks.</summary>
public static class SyntheticVideo
{
    public static string Generate(string path, int width, int height, double seconds, string source = "testsrc2")
    {
        var info = new ProcessStartInfo("ffmpeg") { RedirectStandardError = true, UseShellExecute = false };
        string input = string.Create(CultureInfo.InvariantCulture, $"{source}=size={width}x{height}:rate=25:duration={seconds}");
        foreach (var a in new[] { "-nostdin", "-hide_banner", "-loglevel", "error", "-y", "-f", "lavfi", "-i", input,
                     "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", path })
            info.ArgumentList.Add(a);
        using var ffmpeg = Process.Start(info) ?? throw new InvalidOperationException("ffmpeg could not be started");
        var errors = ffmpeg.StandardError.ReadToEnd();
        ffmpeg.WaitForExit();
        if (ffmpeg.ExitCode != 0) throw new InvalidOperationException("ffmpeg could not generate the video: " + errors);
        return path;
    }
}
