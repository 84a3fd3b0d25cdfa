using System.Diagnostics;
using System.Globalization;
using System.Text;
using VQToken.Engine.Compression;
using VQToken.Engine.Runtime;
using VQToken.Ingestion;
using VQToken.Testing;
using static TorchSharp.torch;

namespace VQToken.Cli.Bench;

/// <summary>The "scaling" scenario: how each stage grows with the frame count. Vision runs the tower on random
/// frames up to <see cref="BenchSettings.ScalingVisionUpTo"/> frames (beyond, per-frame time is taken as
/// constant, the tower sees each frame alone); compression runs on synthetic clustered features of the real
/// shape; the VQ prefill asks on the compressed result. Peak RSS is reset before each point.</summary>
public sealed class ScalingScenario(BenchSettings settings, Action<string> log)
{
    /// <summary>One frame count's figures, in bench.json as `{prefix}scaling_{n}f_*` and `{prefix}vq_prefill_{n}f_ms`.</summary>
    public sealed record Point(int Frames, double VisionMsPerFrame, bool VisionMeasured, double CompressionMs, int VisualTokens, int FullVisualTokens,
        double PrefillMs, double PeakRssBytes);

    public const string TinyPrefix = "tiny_";

    /// <summary>Runs the points on <paramref name="session"/> and writes their keys with <paramref name="prefix"/>.</summary>
    public async Task RunAsync(BenchSession session, IReadOnlyList<int> counts, string prefix, BenchResults r)
    {
        double? perFrame = null;
        int perFrameFrom = 0;
        foreach (int frames in counts.Order())
        {
            using var scope = NewDisposeScope();
            var features = Synthesize(session, frames);   // before the reset: the generator's transients are the bench's, not the service's
            bool resetOk = HardwareProbe.ResetPeakRss();
            bool vision = frames <= settings.ScalingVisionUpTo;
            if (vision)
            {
                perFrame = await VisionMsPerFrameAsync(session, frames);
                perFrameFrom = frames;
            }
            var (compressionMs, encoding) = Compress(features);
            features.Dispose();
            var prefill = new List<double>();
            for (int i = 0; i < Math.Max(settings.Size == CheckpointSize.Tiny ? 9 : 3, settings.Repeats); i++)   // the tiny model's prefill is milliseconds: more repeats
                prefill.Add((await session.AskAsync(session.NewKey("scaling"), encoding, usePrefixCache: false, tokens: 1)).PrefillMs);
            var point = new Point(frames, perFrame ?? double.NaN, vision, compressionMs, encoding.VisualTokens, ModelCost.FullVisualTokens(session.Config, frames),
                Percentiles.Median(prefill),
                resetOk ? HardwareProbe.PeakRssBytes() : double.NaN);
            Write(point, prefix, r);
            log($"scaling {prefix}{frames} frames: vision {point.VisionMsPerFrame:F0} ms/frame ({(vision ? "measured" : $"as at {perFrameFrom} frames")}), " +
                $"compression {compressionMs:F0} ms, {point.VisualTokens} visual tokens, VQ prefill {point.PrefillMs:F0} ms, peak RSS {point.PeakRssBytes / 1e9:F2} GB");
        }
    }

    /// <summary>The tiny model's points (the full model's vision at 1024 frames would take hours on 2 cores).</summary>
    public async Task RunTinyAsync(IReadOnlyList<int> counts, CliProgress progress, BenchResults r)
    {
        if (counts.Count == 0) return;
        var tiny = settings with
        {
            Size = CheckpointSize.Tiny, Checkpoint = BenchCommand.DefaultCheckpointDir(CheckpointSize.Tiny), ScalingVisionUpTo = int.MaxValue,
        };
        BenchCommand.EnsureCheckpoint(tiny, progress);
        await using var session = await BenchSession.OpenAsync(tiny);
        await new ScalingScenario(tiny, log).RunAsync(session, [1], TinyPrefix, new BenchResults());   // warm-up, discarded
        await new ScalingScenario(tiny, log).RunAsync(session, counts, TinyPrefix, r);
    }

    private static async Task<double> VisionMsPerFrameAsync(BenchSession session, int frames)
    {
        int side = session.Config.Vision.ImageSize;
        var pixels = new byte[(long)frames * side * side * 3];
        new Random(frames).NextBytes(pixels);
        var encoding = await session.EncodeAsync(session.NewKey("scaling-vision"), new RgbFrames(frames, side, pixels), CompressionMode.Full);
        return encoding.VisionMs / frames;
    }

    /// <summary>[frames, P, D] synthetic clustered features (20 centres + noise) in place of the projected frames.</summary>
    private static Tensor Synthesize(BenchSession session, int frames) =>
        BenchCompressCommand.SyntheticTokens(frames, session.Config.Vision.NumPatches, session.Config.Text.HiddenSize, clusters: 20, noise: 1.0, seed: (ulong)frames);

    /// <summary>Fixed-K compression of <paramref name="tokens"/>, timed alone.</summary>
    private (double Ms, VideoEncoding Encoding) Compress(Tensor tokens)
    {
        using var scope = NewDisposeScope();
        int frames = (int)tokens.shape[0], patches = (int)tokens.shape[1], dim = (int)tokens.shape[2];
        var compression = CompressionSettings.For(CompressionMode.VQTokenFixed, frames, settings.K, settings.MinK, settings.Elbow, settings.Tokens);
        var clock = Stopwatch.StartNew();
        var compressed = VideoCompressor.Compress(tokens, compression);
        double ms = clock.Elapsed.TotalMilliseconds;
        return (ms, new VideoEncoding
        {
            Mode = CompressionMode.VQTokenFixed, Compressed = compressed, Dim = dim, Frames = frames, OriginalTokens = frames * patches,
            VisualTokens = VideoEncoding.VQTokenCount(compressed.TokenPath, frames, compressed.K),
        });
    }

    public static void Write(Point p, string prefix, BenchResults r)
    {
        string s = $"{prefix}scaling_{p.Frames}f_";
        r[s + "vision_ms_per_frame"] = p.VisionMsPerFrame;
        r[s + "vision_measured"] = p.VisionMeasured ? 1 : 0;
        r[s + "compression_ms"] = p.CompressionMs;
        r[s + "visual_tokens"] = p.VisualTokens;
        r[s + "full_visual_tokens"] = p.FullVisualTokens;
        r[$"{prefix}vq_prefill_{p.Frames}f_ms"] = p.PrefillMs;
        r[s + "peak_rss_bytes"] = p.PeakRssBytes;
    }

    /// <summary>The points written under <paramref name="prefix"/>, by frame count (read back from bench.json too).</summary>
    public static IReadOnlyList<Point> Read(BenchResults r, string prefix)
    {
        var points = new List<Point>();
        string head = prefix + "scaling_", tail = "f_compression_ms";
        foreach (var key in r.Values.Keys.Where(k => k.StartsWith(head, StringComparison.Ordinal) && k.EndsWith(tail, StringComparison.Ordinal)))
        {
            if (!int.TryParse(key[head.Length..^tail.Length], NumberStyles.None, CultureInfo.InvariantCulture, out int n)) continue;
            string s = $"{prefix}scaling_{n}f_";
            points.Add(new Point(n, r[s + "vision_ms_per_frame"], r[s + "vision_measured"] > 0, r[s + "compression_ms"], (int)r[s + "visual_tokens"],
                (int)r[s + "full_visual_tokens"], r[$"{prefix}vq_prefill_{n}f_ms"], r[s + "peak_rss_bytes"]));
        }
        return points.OrderBy(p => p.Frames).ToList();
    }

    /// <summary>The headline keys: VQ prefill at the tiny model's largest count over its smallest (both 1024 and 8
    /// in the default run) and compression at 256 frames in seconds, when those points were measured.</summary>
    public static void Summarise(BenchResults r)
    {
        var tiny = Read(r, TinyPrefix);
        if (tiny.Any(p => p.Frames == 1024) && tiny.Any(p => p.Frames == 8))
            r["vq_prefill_1024_over_8"] = r[$"{TinyPrefix}vq_prefill_1024f_ms"] / r[$"{TinyPrefix}vq_prefill_8f_ms"];
        var full = Read(r, "");
        if (full.FirstOrDefault(p => p.Frames == 256) is { } at256) r["compression_256_frames_s"] = at256.CompressionMs / 1000;
        if (full.Count >= 2) r["vq_prefill_largest_over_smallest"] = full[^1].PrefillMs / full[0].PrefillMs;
    }

    /// <summary>The Markdown tables of the scaling points (empty when the run had none).</summary>
    public static string Table(BenchResults r, BenchSettings s)
    {
        var full = Read(r, "");
        var tiny = Read(r, TinyPrefix);
        if (full.Count == 0 && tiny.Count == 0) return "";
        var b = new StringBuilder();
        b.AppendLine("### Scaling with the frame count");
        b.AppendLine();
        b.AppendLine(Invariant($"Vision runs the tower on random frames (measured where marked; larger counts use the per-frame time of the largest measured count: the tower sees each frame alone). Compression = fixed K = {s.K} on synthetic clustered features of the real shape (frames x 729 x hidden, 20 centres + noise), alone; VQ prefill = the {s.Tokens.WireName()} prompt of that compressed video, prefix cache off; peak RSS = the process's VmHWM from after the synthetic features exist (as the service holds the projected frames) to the end of the point (weights included)."));
        b.AppendLine();
        b.AppendLine("| model | frames | vision per frame | compression | visual tokens (full tokens would be) | VQ prefill | peak RSS |");
        b.AppendLine("|---|---|---|---|---|---|---|");
        foreach (var (points, model) in new[] { (full, r.Machine.GetValueOrDefault("checkpoint", "full random")), (tiny, "tiny random (the full model's vision would take hours on 2 cores)") })
        {
            foreach (var p in points)
            {
                string vision = double.IsFinite(p.VisionMsPerFrame) ? $"{p.VisionMsPerFrame / 1000:0.000} s{(p.VisionMeasured ? "" : " (linear)")}" : "–";
                string rss = double.IsFinite(p.PeakRssBytes) ? $"{p.PeakRssBytes / 1e9:0.00} GB" : "–";
                b.AppendLine(Invariant($"| {model} | {p.Frames} | {vision} | {p.CompressionMs / 1000:0.000} s | {p.VisualTokens} ({p.FullVisualTokens}) | {p.PrefillMs:0} ms | {rss} |"));
            }
        }
        b.AppendLine();
        foreach (var (key, what) in new[]
                 {
                     ("vq_prefill_1024_over_8", "VQ prefill at 1024 frames / at 8 frames, both on the tiny model"),
                     ("vq_prefill_largest_over_smallest", "VQ prefill at the largest / the smallest full-size count"),
                     ("compression_256_frames_s", "compression at 256 frames (186,624 x 896 rows), seconds"),
                 })
        {
            if (r.Values.TryGetValue(key, out var v)) b.AppendLine(Invariant($"- {what}: `{key}` = {v:0.###}"));
        }
        b.AppendLine();
        b.AppendLine($"![stage time against frames]({BenchmarksMarkdown.ScalingChartFile})");
        b.AppendLine();
        return b.ToString();
    }

    /// <summary>Comma-separated frame counts ("8,32,64"); "none" or empty for none.</summary>
    public static bool TryParseCounts(string? text, out int[] counts)
    {
        counts = [];
        if (text is null) return false;
        text = text.Trim();
        if (text.Length == 0 || text.Equals("none", StringComparison.OrdinalIgnoreCase)) return true;
        var list = new List<int>();
        foreach (var part in text.Split(',', StringSplitOptions.TrimEntries))
        {
            if (!int.TryParse(part, NumberStyles.None, CultureInfo.InvariantCulture, out int n) || n < 1) return false;
            list.Add(n);
        }
        counts = list.Distinct().Order().ToArray();
        return true;
    }

    private static string Invariant(FormattableString s) => s.ToString(CultureInfo.InvariantCulture);
}
