using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using TorchSharp;
using VQToken.Engine.Video;

namespace VQToken.Cli;

/// <summary>`bench-ingest`: makes a long high-resolution video with ffmpeg, samples it like the service,
/// and reports times and peak memory (this process and the ffmpeg decoder) as one JSON line.</summary>
public sealed class BenchIngestCommand : ICliCommand
{
    public string Name => "bench-ingest";
    public string Usage => "bench-ingest [--seconds 600] [--size 1920x1080] [--rate 30] [--frames 32] [--video PATH] [--keep]: memory/time of sampling a long video";

    public int Run(string[] args)
    {
        var cli = new CliArgs(args, "keep");
        var seconds = cli.GetInt("seconds", 600);
        var size = cli.Get("size", "1920x1080");
        var rate = cli.GetInt("rate", 30);
        var frames = cli.GetInt("frames", 32);
        var dir = Directory.CreateTempSubdirectory("vqtoken-bench-").FullName;
        var video = cli.Get("video") ?? Path.Combine(dir, $"bench-{size}-{seconds}s.mp4");
        try
        {
            double generateSeconds = 0;
            if (!File.Exists(video))
            {
                var clock = Stopwatch.StartNew();
                Generate(video, size, rate, seconds);
                generateSeconds = clock.Elapsed.TotalSeconds;
            }
            using (torch.zeros(1)) { } // load libtorch before the baseline
            var baselineKb = ReadStatusKb(Environment.ProcessId, "VmHWM:");

            using var watcher = new ChildMemoryWatcher(Environment.ProcessId, "ffmpeg");
            var sampler = new FrameSampler(new VideoProbe(new VideoOptions { MaxFrames = Math.Max(frames, 64) }));
            var probeClock = Stopwatch.StartNew();
            var info = new VideoProbe(sampler.Options).ProbeAsync(video).GetAwaiter().GetResult();
            var probeSeconds = probeClock.Elapsed.TotalSeconds;
            var sampleClock = Stopwatch.StartNew();
            using var sampled = sampler.SampleAsync(video, info, new FrameRequest(frames)).GetAwaiter().GetResult();
            var sampleSeconds = sampleClock.Elapsed.TotalSeconds;
            var ffmpegPeakKb = watcher.Stop();

            var (w, h) = (info.Width, info.Height);
            Console.WriteLine(JsonSerializer.Serialize(new
            {
                ok = true,
                video = new { info.Width, info.Height, info.FrameRate, info.FrameCount, info.DurationSeconds, bytes = new FileInfo(video).Length },
                generateSeconds = Math.Round(generateSeconds, 1),
                probeSeconds = Math.Round(probeSeconds, 2),
                sampleSeconds = Math.Round(sampleSeconds, 1),
                shape = sampled.Frames.shape,
                tensorMb = Math.Round(sampled.Frames.NumberOfElements * 4 / 1048576.0, 1),
                processPeakRssMb = Math.Round(ReadStatusKb(Environment.ProcessId, "VmHWM:") / 1024.0, 1),
                processBaselineRssMb = Math.Round(baselineKb / 1024.0, 1),
                ffmpegPeakRssMb = Math.Round(ffmpegPeakKb / 1024.0, 1),
                wholeVideoDecodedGb = Math.Round((double)info.FrameCount * w * h * 3 / 1e9, 1),
            }));
            return 0;
        }
        catch (VideoIngestException e)
        {
            Console.WriteLine(JsonSerializer.Serialize(new { ok = false, error = e.Kind.ToString(), message = e.Message }));
            return 1;
        }
        finally
        {
            if (!cli.Has("keep")) Directory.Delete(dir, recursive: true);
            else Console.Error.WriteLine($"kept {video}");
        }
    }

    private static void Generate(string path, string size, int rate, int seconds)
    {
        var info = new ProcessStartInfo("ffmpeg") { UseShellExecute = false, RedirectStandardError = true };
        foreach (var a in new[]
                 {
                     "-nostdin", "-loglevel", "error", "-y", "-f", "lavfi",
                     "-i", string.Create(CultureInfo.InvariantCulture, $"testsrc2=size={size}:rate={rate}:duration={seconds}"),
                     "-c:v", "libx264", "-preset", "ultrafast", "-b:v", "1M", "-pix_fmt", "yuv420p", path,
                 })
            info.ArgumentList.Add(a);
        using var ffmpeg = Process.Start(info)!;
        var errors = ffmpeg.StandardError.ReadToEnd();
        ffmpeg.WaitForExit();
        if (ffmpeg.ExitCode != 0) throw new InvalidOperationException("ffmpeg could not generate the video: " + errors);
    }

    /// <summary>A field of /proc/PID/status in kB (VmHWM: peak resident set), 0 when gone.</summary>
    internal static long ReadStatusKb(int pid, string field)
    {
        try
        {
            var line = File.ReadLines($"/proc/{pid}/status").FirstOrDefault(l => l.StartsWith(field, StringComparison.Ordinal));
            return line is null ? 0 : long.Parse(line[field.Length..].Trim().Split(' ')[0], CultureInfo.InvariantCulture);
        }
        catch (IOException)
        {
            return 0;
        }
    }
}
