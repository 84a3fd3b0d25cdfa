using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using TorchSharp;
using VQToken.Engine.Runtime;
using VQToken.Ingestion;

namespace VQToken.Cli;

/// <summary>`bench-ingest`: makes a long high-resolution video with ffmpeg, samples it like the service,
/// and reports times and peak memory (this process and the ffmpeg decoder) as one JSON line.</summary>
public sealed class BenchIngestCommand : CliCommand
{
    private readonly Option<int> _seconds = CliOptions.Int("--seconds", "length of the generated video", 600, min: 1);
    private readonly Option<string> _size = CliOptions.Text("--size", "frame size of the generated video", "WxH", "1920x1080");
    private readonly Option<int> _rate = CliOptions.Int("--rate", "frame rate of the generated video", 30, min: 1);
    private readonly Option<int> _frames = CliOptions.Int("--frames", "frames to sample", 32, min: 1);
    private readonly Option<string> _video = CliOptions.Text("--video", "use (or generate once into) this file instead of a temporary one", "PATH");
    private readonly Option<bool> _keep = CliOptions.Flag("--keep", "keep the generated video");

    public BenchIngestCommand() : base("bench-ingest", "Memory and time of sampling a long high-resolution video (generated with ffmpeg); one JSON line.")
    {
        _size.Validators.Add(r =>
        {
            var size = r.GetValueOrDefault<string>() ?? "";
            var parts = size.Split('x');
            if (parts.Length != 2 || !parts.All(p => int.TryParse(p, out var n) && n > 0)) r.AddError($"--size must be WIDTHxHEIGHT (e.g. 1920x1080), got '{size}'");
        });
        foreach (var option in new Option[] { _seconds, _size, _rate, _frames, _video, _keep }) Add(option);
    }

    protected override int Execute(ParseResult parsed)
    {
        var seconds = parsed.GetValue(_seconds);
        var size = parsed.GetRequiredValue(_size);
        var rate = parsed.GetValue(_rate);
        var frames = parsed.GetValue(_frames);
        bool keep = parsed.GetValue(_keep);
        var dir = Directory.CreateTempSubdirectory("vqtoken-bench-").FullName;
        var video = parsed.GetValue(_video) ?? Path.Combine(dir, $"bench-{size}-{seconds}s.mp4");
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
            var sampled = sampler.SampleAsync(video, info, new FrameRequest(frames)).GetAwaiter().GetResult();
            using var pixels = sampled.Rgb.ToPixels(0, sampled.Rgb.Count);
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
                shape = pixels.shape,
                tensorMb = Math.Round(pixels.NumberOfElements * 4 / 1048576.0, 1),
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
            if (!keep) Directory.Delete(dir, recursive: true);
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
