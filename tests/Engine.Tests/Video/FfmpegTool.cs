using System.Diagnostics;

namespace VQToken.Engine.Tests.Video;

/// <summary>Runs ffmpeg for the tests' own data (videos made at test time).</summary>
internal static class FfmpegTool
{
    public static void Run(params string[] args)
    {
        var info = new ProcessStartInfo("ffmpeg") { RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in (string[])["-nostdin", "-hide_banner", "-loglevel", "error", "-y", .. args]) info.ArgumentList.Add(a);
        using var process = Process.Start(info)!;
        var errors = process.StandardError.ReadToEnd();
        process.WaitForExit();
        if (process.ExitCode != 0) throw new InvalidOperationException($"ffmpeg {string.Join(' ', args)} failed: {errors}");
    }
}
