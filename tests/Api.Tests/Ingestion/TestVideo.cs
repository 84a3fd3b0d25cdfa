using System.Diagnostics;

namespace VQToken.Api.Tests.Ingestion;

internal static class TestVideo
{
    /// <summary>Makes a video from a lavfi source with ffmpeg (H.264 unless other codec arguments are given).</summary>
    public static void Generate(string path, string source, params string[] codec)
    {
        var info = new ProcessStartInfo("ffmpeg") { RedirectStandardError = true, UseShellExecute = false };
        string[] args = ["-nostdin", "-loglevel", "error", "-y", "-f", "lavfi", "-i", source,
            .. codec.Length > 0 ? codec : ["-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p"], path];
        foreach (var a in args) info.ArgumentList.Add(a);
        using var process = Process.Start(info)!;
        var errors = process.StandardError.ReadToEnd();
        process.WaitForExit();
        if (process.ExitCode != 0) throw new InvalidOperationException("ffmpeg failed: " + errors);
    }
}
