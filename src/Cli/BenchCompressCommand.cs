using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using TorchSharp;
using VQToken.Engine.Checkpoints;
using VQToken.Engine.Compression;
using VQToken.Testing;
using static TorchSharp.torch;

namespace VQToken.Cli;

/// <summary>`bench-compress`: times fixed and adaptive VQToken compression on synthetic clustered
/// tokens, against a faithful re-implementation of the official clustering; prints a Markdown report.</summary>
public sealed class BenchCompressCommand : CliCommand
{
    private readonly Option<int> _frames = CliOptions.Int("--frames", "frames T", 8, min: 1);
    private readonly Option<int> _tokens = CliOptions.Int("--tokens", "tokens per frame P", 729, min: 1);
    private readonly Option<int> _dim = CliOptions.Int("--dim", "token width D", 896, min: 1);
    private readonly Option<int> _clusters = CliOptions.Int("--clusters", "true clusters the tokens are drawn around", 20, min: 1);
    private readonly Option<double> _noise = CliOptions.Double("--noise", "Gaussian noise σ around the cluster centres", 1.0, min: 0);
    private readonly Option<int> _threads = CliOptions.Int("--threads", "libtorch threads", 2, min: 1);
    private readonly Option<int> _seed = CliOptions.Int("--seed", "seed of the tokens and of k-means++", 1, min: 0);
    private readonly Option<int> _repeat = CliOptions.Int("--repeat", "runs per row (the median is shown)", 5, min: 1);
    private readonly Option<int> _k = CliOptions.Int("--k", "K (fixed) and the largest K tried (adaptive)", 32, min: 1);
    private readonly Option<int> _minK = CliOptions.Int("--min-k", "smallest K tried (adaptive)", 12, min: 1);
    private readonly Option<bool> _skipOfficial = CliOptions.Flag("--skip-official", "time ours only (the official adaptive run takes seconds)");
    private readonly Option<string> _write = CliOptions.Text("--write", "write the synthetic tokens to this safetensors file and stop", "tokens.safetensors");

    public BenchCompressCommand() : base("bench-compress",
        "Time fixed and adaptive compression on synthetic clustered tokens against a re-implementation of the official clustering; prints a Markdown report.")
    {
        foreach (var option in new Option[] { _frames, _tokens, _dim, _clusters, _noise, _threads, _seed, _repeat, _k, _minK, _skipOfficial, _write }) Add(option);
    }

    protected override int Execute(ParseResult parsed)
    {
        int frames = parsed.GetValue(_frames), perFrame = parsed.GetValue(_tokens), dim = parsed.GetValue(_dim);
        int clusters = parsed.GetValue(_clusters), threads = parsed.GetValue(_threads), repeat = parsed.GetValue(_repeat);
        int k = parsed.GetValue(_k), minK = parsed.GetValue(_minK), seed = parsed.GetValue(_seed);
        double noise = parsed.GetValue(_noise);
        torch.set_num_threads(threads);

        using var scope = NewDisposeScope();
        var tokens = SyntheticTokens(frames, perFrame, dim, clusters, noise, (ulong)seed); // [T, P, D]
        if (parsed.GetValue(_write) is { } path)
        {
            SafeTensorsWriter.Write(path, [new KeyValuePair<string, Tensor>("tokens", tokens)]);
            Console.WriteLine($"wrote {path}: tokens [{frames}, {perFrame}, {dim}]");
            return 0;
        }
        CompressCommand.WarmUp(tokens);
        Console.WriteLine($"## {frames} x {perFrame} x {dim} float32 tokens, {clusters} true clusters, noise {noise}, " +
                          $"{threads} threads, seed {seed}, {Environment.ProcessorCount} cores visible, load average {LoadAverage()}");
        Console.WriteLine();
        Console.WriteLine("| run | K | wall ms (median of runs) | process CPU ms (median) | inertia (Σ 1−cos) |");
        Console.WriteLine("|---|---|---|---|---|");

        var fixedSettings = CompressionSettings.Fixed(frames, k, seed: (ulong)seed);
        var adaptiveSettings = CompressionSettings.Adaptive(frames, minK, k, seed: (ulong)seed);
        Row($"ours fixed K={k}", tokens, fixedSettings, repeat);
        Row($"ours adaptive {minK}..{k}", tokens, adaptiveSettings, repeat);

        var rows = KMeans.NormalizeRows(tokens.reshape(-1, dim));
        if (!parsed.GetValue(_skipOfficial))
        {
            using var generator = new Generator((ulong)seed);
            using var process = System.Diagnostics.Process.GetCurrentProcess();
            var cpuBefore = process.TotalProcessorTime;
            var clock = Stopwatch.StartNew();
            var (labels, _, iterations) = OfficialClustering.Fit(rows, k, 300, 1e-4, generator);
            double ms = clock.Elapsed.TotalMilliseconds;
            process.Refresh();
            Print($"official fixed K={k} (cap 300, {iterations} iterations)", k, ms, CpuMs(process, ref cpuBefore), KMeans.CosineInertia(rows, labels, k));

            clock.Restart();
            var (adaptiveLabels, _, chosen, curve) = OfficialClustering.FitAdaptive(rows, minK, k, ElbowIndexing.Centered, generator);
            ms = clock.Elapsed.TotalMilliseconds;
            process.Refresh();
            int officialIndexing = ElbowRule.Select(curve, minK, ElbowIndexing.Official);
            Print($"official adaptive {minK}..{k} (cap 100 per K; official indexing would pick {officialIndexing})",
                chosen, ms, CpuMs(process, ref cpuBefore), KMeans.CosineInertia(rows, adaptiveLabels, chosen));
        }
        Console.WriteLine();
        Profile(rows, k, minK, (ulong)seed);
        Console.WriteLine($"load average at the end: {LoadAverage()}");
        return 0;
    }

    /// <summary>C random centres in D dimensions; every token = its centre + Gaussian noise (σ = noise).</summary>
    internal static Tensor SyntheticTokens(int frames, int perFrame, int dim, int clusters, double noise, ulong seed)
    {
        using var scope = NewDisposeScope();
        using var generator = new Generator(seed);
        var centres = randn([clusters, dim], generator: generator);
        var assignment = randint(0, clusters, [frames * perFrame], generator: generator);
        var tokens = centres.index_select(0, assignment) + noise * randn([frames * perFrame, dim], generator: generator);
        return tokens.reshape(frames, perFrame, dim).MoveToOuterDisposeScope();
    }

    private static void Row(string name, Tensor tokens, CompressionSettings settings, int repeat)
    {
        var times = new List<double>();
        var cpu = new List<double>();
        CompressedVideo video = null!;
        using var process = System.Diagnostics.Process.GetCurrentProcess();
        for (int r = 0; r < repeat; r++)
        {
            process.Refresh();
            var cpuBefore = process.TotalProcessorTime;
            var clock = Stopwatch.StartNew();
            video = VideoCompressor.Compress(tokens, settings);
            times.Add(clock.Elapsed.TotalMilliseconds);
            process.Refresh();
            cpu.Add((process.TotalProcessorTime - cpuBefore).TotalMilliseconds);
        }
        times.Sort();
        cpu.Sort();
        using var scope = NewDisposeScope();
        double inertia = KMeans.CosineInertia(tokens, video.IndexMapTensor(), video.K);
        Print(name, video.K, times[times.Count / 2], cpu[cpu.Count / 2].ToString("F0", CultureInfo.InvariantCulture), inertia,
            $" (min {times[0]:F1}, max {times[^1]:F1})");
    }

    private static void Print(string name, int k, double ms, string cpuMs, double inertia, string extra = "") =>
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"| {name} | {k} | {ms:F1}{extra} | {cpuMs} | {inertia:F2} |"));

    /// <summary>Where the time goes, through the public API (each phase timed alone).</summary>
    private static void Profile(Tensor rows, int k, int minK, ulong seed)
    {
        using var scope = NewDisposeScope();
        var clock = Stopwatch.StartNew();
        var normalised = KMeans.NormalizeRows(rows);
        double normalise = Lap(clock);
        var one = KMeans.Fit(normalised, k, new KMeansOptions(MaxIterations: 1, Seed: seed));
        double initPlusOne = Lap(clock);
        var ten = KMeans.Refine(normalised, one.Centroids, new KMeansOptions(MaxIterations: 10, Tolerance: 0));
        double perIteration = Lap(clock) / 10;
        var full = KMeans.Fit(normalised, k, new KMeansOptions(Seed: seed));
        double fullFit = Lap(clock);
        _ = Codebook.FromLabels(normalised, full.Labels, k);
        double codebook = Lap(clock);
        var adaptive = AdaptiveK.Fit(normalised, new AdaptiveKOptions(minK, k, Seed: seed));
        double adaptiveMs = Lap(clock);
        Console.WriteLine("Profile (ms):");
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"- normalise rows {normalise:F1}; k-means++ init + 1 iteration (K={k}) {initPlusOne:F1}; one Lloyd iteration (K={k}) {perIteration:F1}"));
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"- full fixed fit {fullFit:F1} ({full.Iterations} iterations, converged {full.Converged}, reseeded {full.ReseededClusters}); codebook from labels {codebook:F1}"));
        var curve = string.Join(" ", adaptive.Distortions.Select(d => d.ToString("F0", CultureInfo.InvariantCulture)));
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"- adaptive {adaptiveMs:F1}: chose K={adaptive.K} ({adaptive.Fit.Iterations} polish iterations); distortion curve {curve}"));
    }

    private static string CpuMs(System.Diagnostics.Process process, ref TimeSpan before)
    {
        var now = process.TotalProcessorTime;
        var spent = (now - before).TotalMilliseconds;
        before = now;
        return spent.ToString("F0", CultureInfo.InvariantCulture);
    }

    /// <summary>The 1-minute load average (Linux), to tell a quiet machine from a busy one.</summary>
    private static string LoadAverage() =>
        File.Exists("/proc/loadavg") ? File.ReadAllText("/proc/loadavg").Split(' ')[0] : "n/a";

    private static double Lap(Stopwatch clock)
    {
        double ms = clock.Elapsed.TotalMilliseconds;
        clock.Restart();
        return ms;
    }
}
