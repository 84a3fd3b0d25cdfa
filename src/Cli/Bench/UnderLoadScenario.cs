using System.Diagnostics;
using VQToken.Engine.Compression;
using VQToken.Ingestion;
using static TorchSharp.torch;

namespace VQToken.Cli.Bench;

/// <summary>The "under load" scenario: each serving stage timed on its own, quiet and then with CPU-bound
/// neighbours on the same cores, back to back in one process; the slowdowns are loaded / quiet.</summary>
public sealed class UnderLoadScenario(BenchSettings settings, BenchSession session, Action<string> log)
{
    /// <summary>Stages in the order they are reported (bench.json keys `under_load_slowdown_{stage}`).</summary>
    public static readonly string[] Stages = ["vision", "compression", "prefill", "decode"];

    /// <summary>Milliseconds per stage: vision per frame, compression of the bench's frame count, the
    /// VQToken prompt's prefill, one batch-1 decode step.</summary>
    public sealed record StageTimes(double VisionMsPerFrame, double CompressionMs, double PrefillMs, double DecodeStepMs)
    {
        public double this[string stage] => stage switch
        {
            "vision" => VisionMsPerFrame, "compression" => CompressionMs, "prefill" => PrefillMs, "decode" => DecodeStepMs,
            _ => throw new ArgumentOutOfRangeException(nameof(stage), stage, "unknown stage"),
        };
    }

    /// <summary>Loaded over quiet, per stage.</summary>
    public static IReadOnlyDictionary<string, double> Slowdowns(StageTimes quiet, StageTimes loaded) =>
        Stages.ToDictionary(s => s, s => loaded[s] / quiet[s]);

    /// <summary>Measures quiet, then under <see cref="BenchSettings.LoadNeighbours"/> neighbours, and adds
    /// `under_load_*` keys to <paramref name="r"/>.</summary>
    public async Task RunAsync(BenchResults r)
    {
        using var scope = NewDisposeScope();
        var tokens = BenchCompressCommand.SyntheticTokens(settings.Frames, session.Config.Vision.NumPatches, session.Config.Text.HiddenSize,
            clusters: 20, noise: 1.0, seed: 1);
        var quiet = await MeasureAsync(tokens);
        log($"under load: quiet {Describe(quiet)}");
        StageTimes loaded;
        using (var neighbours = new CpuNeighbours(settings.LoadNeighbours))
            loaded = await MeasureAsync(tokens);
        log($"under load: {settings.LoadNeighbours} busy neighbours {Describe(loaded)}");
        r["under_load_neighbours"] = settings.LoadNeighbours;
        foreach (var stage in Stages)
        {
            r[$"under_load_quiet_{stage}_ms"] = quiet[stage];
            r[$"under_load_loaded_{stage}_ms"] = loaded[stage];
        }
        foreach (var (stage, slowdown) in Slowdowns(quiet, loaded)) r[$"under_load_slowdown_{stage}"] = slowdown;
    }

    /// <summary>One pass over the stages: <see cref="BenchSettings.LoadVisionFrames"/> random frames through the
    /// tower, the fixed-K compression of <paramref name="tokens"/> and asks without the prefix cache (medians).</summary>
    public async Task<StageTimes> MeasureAsync(Tensor tokens)
    {
        int side = session.Config.Vision.ImageSize, count = settings.LoadVisionFrames;
        var pixels = new byte[count * side * side * 3];
        new Random(7).NextBytes(pixels);
        var key = session.NewKey("under-load");
        var encoding = await session.EncodeAsync(key, new RgbFrames(count, side, pixels), CompressionMode.VQTokenFixed);

        var compression = CompressionSettings.For(CompressionMode.VQTokenFixed, (int)tokens.shape[0], settings.K, settings.MinK, settings.Elbow, settings.Tokens);
        var compressTimes = new List<double>();
        var prefills = new List<double>();
        var steps = new List<double>();
        for (int i = 0; i < settings.Repeats; i++)
        {
            var clock = Stopwatch.StartNew();
            VideoCompressor.Compress(tokens, compression);
            compressTimes.Add(clock.Elapsed.TotalMilliseconds);
            var answer = await session.AskAsync(key, encoding, usePrefixCache: false);
            prefills.Add(answer.PrefillMs);
            steps.Add(answer.DecodeMs / Math.Max(1, answer.Tokens.Count - 1));
        }
        return new StageTimes(encoding.VisionMs / count, Percentiles.Median(compressTimes), Percentiles.Median(prefills), Percentiles.Median(steps));
    }

    /// <summary>The Markdown table of the scenario (empty when the run skipped it).</summary>
    public static string Table(BenchResults r)
    {
        if (!r.Values.TryGetValue("under_load_neighbours", out var neighbours)) return "";
        var b = new System.Text.StringBuilder();
        b.AppendLine("### Under load: each stage next to CPU-bound neighbours");
        b.AppendLine();
        b.AppendLine(string.Create(System.Globalization.CultureInfo.InvariantCulture,
            $"The same stages timed quiet and then with {neighbours} busy-loop neighbour processes on the same cores, back to back in one process (OpenMP wait policy: {r.Machine.GetValueOrDefault("omp_wait_policy", "?")}). With one neighbour per core a fair share is half the CPU, so ~2x is the floor."));
        b.AppendLine();
        b.AppendLine("| stage | quiet | under load | slowdown (`under_load_slowdown_*`) |");
        b.AppendLine("|---|---|---|---|");
        foreach (var (stage, what) in new[] { ("vision", "vision, per frame"), ("compression", "compression, fixed K"), ("prefill", "VQ prompt prefill"), ("decode", "decode step, batch 1") })
            b.AppendLine(string.Create(System.Globalization.CultureInfo.InvariantCulture,
                $"| {what} | {r[$"under_load_quiet_{stage}_ms"]:0.#} ms | {r[$"under_load_loaded_{stage}_ms"]:0.#} ms | {r[$"under_load_slowdown_{stage}"]:0.00}x |"));
        b.AppendLine();
        return b.ToString();
    }

    private static string Describe(StageTimes t) =>
        $"vision {t.VisionMsPerFrame:F0} ms/frame, compression {t.CompressionMs:F0} ms, VQ prefill {t.PrefillMs:F0} ms, decode step {t.DecodeStepMs:F1} ms";
}
