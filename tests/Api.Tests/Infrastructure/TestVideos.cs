using System.Diagnostics;

namespace VQToken.Api.Tests.Infrastructure;

/// <summary>Small videos generated with ffmpeg once per test run.</summary>
public static class TestVideos
{
    private static readonly string Folder = Directory.CreateTempSubdirectory("vqtoken-api-videos-").FullName;
    private static readonly Dictionary<string, string> Made = new();

    /// <summary>A 2 s 160×120 testsrc2 mp4 (h264); <paramref name="variant"/> changes its content (and bytes).</summary>
    public static string Mp4(int variant = 0)
    {
        lock (Made)
        {
            var key = "mp4-" + variant;
            if (Made.TryGetValue(key, out var path)) return path;
            path = Path.Combine(Folder, key + ".mp4");
            Run("ffmpeg", $"-loglevel error -y -f lavfi -i testsrc2=size=160x120:rate=10 -t 2 -vf hue=h={variant * 40} -pix_fmt yuv420p -c:v libx264 \"{path}\"");
            Made[key] = path;
            return path;
        }
    }

    public static void Run(string tool, string arguments)
    {
        var start = new ProcessStartInfo(tool, arguments) { RedirectStandardError = true, RedirectStandardOutput = true };
        using var process = Process.Start(start) ?? throw new InvalidOperationException($"{tool} did not start (apt-get install -y ffmpeg)");
        var stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(60_000)) { process.Kill(true); throw new TimeoutException($"{tool} {arguments} timed out"); }
        if (process.ExitCode != 0) throw new InvalidOperationException($"{tool} failed ({process.ExitCode}): {stderr.Result}");
    }
}
