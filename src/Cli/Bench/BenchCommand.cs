using VQToken.Engine.Compression;
using System.Globalization;
using VQToken.Engine.Checkpoints;

namespace VQToken.Cli.Bench;

/// <summary>`bench`: the paper's efficiency claims measured on our engine over a random full-size
/// checkpoint (generated into a cache folder when missing) and an ffmpeg-generated video. Writes
/// bench.json and bench-ratios.png to --out and updates docs/BENCHMARKS.md (its own section).</summary>
public sealed class BenchCommand : ICliCommand
{
    public string Name => "bench";

    public string Usage =>
        "bench --out <dir> [--smoke] [--checkpoint DIR] [--frames 8] [--prefill-frames 32] [--k 32] [--tokens 16] [--repeats 3] " +
        "[--token-path codebook|attention] [--elbow official|centered] [--concurrency 8] [--device cpu] [--dtype auto] [--threads 0] [--docs docs/BENCHMARKS.md | --no-docs] [--render bench.json]: efficiency benchmark";

    public int Run(string[] args)
    {
        var cli = new CliArgs(args, "smoke", "no-docs");
        var outDir = cli.Get("out") ?? throw new ArgumentException("--out <dir> is required");
        var settings = Parse(cli, Path.GetFullPath(outDir));
        Directory.CreateDirectory(settings.OutDir);
        if (cli.Get("render") is { } measured) return Render(measured, settings, args);
        EnsureCheckpoint(settings);

        var videoDir = Directory.CreateTempSubdirectory("vqtoken-bench-");
        try
        {
            int side = settings.Smoke ? 160 : 640;
            var video = SyntheticVideo.Generate(Path.Combine(videoDir.FullName, "bench.mp4"), side, side * 9 / 16, settings.Smoke ? 2 : 10);
            var results = new BenchRunner(settings, Log).RunAsync(video).GetAwaiter().GetResult();
            var json = Path.Combine(settings.OutDir, "bench.json");
            results.Write(json, settings);
            var chart = Path.Combine(settings.OutDir, "bench-ratios.png");
            BenchmarksMarkdown.WriteChart(chart, results);
            if (settings.DocsFile is { } docs)
            {
                BenchmarksMarkdown.Update(docs, results, settings, CommandText(args));
                File.Copy(json, Path.Combine(Path.GetDirectoryName(Path.GetFullPath(docs))!, "bench.json"), overwrite: true);
                BenchmarksMarkdown.WriteChart(Path.Combine(Path.GetDirectoryName(Path.GetFullPath(docs))!, BenchmarksMarkdown.ChartFile), results);
            }
            foreach (var goal in results.Goals)
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{(goal.Met ? "met    " : "NOT MET")} {goal.Key} = {goal.Value:0.###} (goal {goal.Rule})"));
            Console.WriteLine($"wrote {json}");
            return 0;
        }
        finally
        {
            videoDir.Delete(recursive: true);
        }
    }

    /// <summary>--render bench.json: writes the chart and the docs section of an earlier run (its settings
    /// are read from the file; the command shown is the one given here, without --render).</summary>
    private static int Render(string benchJson, BenchSettings settings, string[] args)
    {
        var root = System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(benchJson))!.AsObject();
        var results = BenchResults.FromJson(root);
        var s = root["settings"]!;
        settings = settings with
        {
            Frames = s["frames"]!.GetValue<int>(), PrefillFrames = s["prefill_frames"]!.GetValue<int>(), K = s["k"]!.GetValue<int>(),
            MinK = s["min_k"]!.GetValue<int>(), AnswerTokens = s["answer_tokens"]!.GetValue<int>(), Repeats = s["repeats"]!.GetValue<int>(),
            Concurrency = s["concurrency"]!.GetValue<int>(),
            // bench.json files written before token paths existed ran VQ-Attention with the centered elbow.
            Tokens = CompressionModes.TryParseTokenPath(s["tokens"]?.GetValue<string>(), out var tokens) ? tokens : Engine.Compression.TokenPath.Attention,
            Elbow = CompressionModes.TryParseElbow(s["elbow"]?.GetValue<string>(), out var elbow) ? elbow : Engine.Compression.ElbowIndexing.Centered,
        };
        BenchmarksMarkdown.WriteChart(Path.Combine(settings.OutDir, "bench-ratios.png"), results);
        if (settings.DocsFile is { } docs)
        {
            var shown = args.Where((a, i) => a != "--render" && (i == 0 || args[i - 1] != "--render")).ToArray();
            BenchmarksMarkdown.Update(docs, results, settings, CommandText(shown));
            BenchmarksMarkdown.WriteChart(Path.Combine(Path.GetDirectoryName(Path.GetFullPath(docs))!, BenchmarksMarkdown.ChartFile), results);
        }
        return 0;
    }

    private static BenchSettings Parse(CliArgs cli, string outDir)
    {
        bool smoke = cli.Has("smoke");
        var size = smoke ? CheckpointSize.Tiny : CheckpointSize.Full;
        var checkpoint = cli.Get("checkpoint") ?? DefaultCheckpointDir(size);
        var b = smoke ? BenchSettings.SmokeSettings(checkpoint, outDir) : new BenchSettings { Checkpoint = checkpoint, OutDir = outDir };
        if (!CompressionModes.TryParseTokenPath(cli.Get("token-path", b.Tokens.WireName()), out var tokens))
            throw new ArgumentException($"--token-path must be codebook or attention, got '{cli.Get("token-path")}'");
        if (!CompressionModes.TryParseElbow(cli.Get("elbow", b.Elbow.WireName()), out var elbow))
            throw new ArgumentException($"--elbow must be official or centered, got '{cli.Get("elbow")}'");
        string? docs = cli.Has("no-docs") ? null : cli.Get("docs") ?? (smoke ? null : File.Exists("docs/BENCHMARKS.md") ? "docs/BENCHMARKS.md" : null);
        return b with
        {
            Frames = cli.GetInt("frames", b.Frames), PrefillFrames = cli.GetInt("prefill-frames", b.PrefillFrames), K = cli.GetInt("k", b.K),
            MinK = cli.GetInt("min-k", b.MinK), AnswerTokens = cli.GetInt("tokens", b.AnswerTokens), Repeats = cli.GetInt("repeats", b.Repeats),
            FullPrefillRepeats = cli.GetInt("full-prefill-repeats", b.FullPrefillRepeats), Concurrency = cli.GetInt("concurrency", b.Concurrency),
            Device = cli.Get("device", b.Device), DType = cli.Get("dtype", b.DType), Threads = cli.GetInt("threads", b.Threads), DocsFile = docs,
            Tokens = tokens, Elbow = elbow,
        };
    }

    /// <summary>$XDG_CACHE_HOME/vqtoken/bench-{size} (or ~/.cache/…): generated once, reused by later runs.</summary>
    private static string DefaultCheckpointDir(CheckpointSize size)
    {
        var cache = Environment.GetEnvironmentVariable("XDG_CACHE_HOME") is { Length: > 0 } xdg ? xdg
            : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".cache");
        return Path.Combine(cache, "vqtoken", "bench-" + size.ToString().ToLowerInvariant());
    }

    private static void EnsureCheckpoint(BenchSettings settings)
    {
        if (File.Exists(Path.Combine(settings.Checkpoint, LlavaConfig.FileName))) return;
        Log($"generating a random {settings.Size.ToString().ToLowerInvariant()} checkpoint in {settings.Checkpoint}");
        RandomCheckpoint.Write(settings.Checkpoint, new RandomCheckpoint.Options(settings.Size, Seed: 1));
    }

    /// <summary>The command as run, without this machine's paths (it goes into the docs).</summary>
    private static string CommandText(string[] args)
    {
        var kept = new List<string>();
        for (int i = 0; i < args.Length; i++)
        {
            if (args[i] is "--out" or "--checkpoint" or "--docs") { kept.Add(args[i] + " <path>"); i++; continue; }
            kept.Add(args[i]);
        }
        return "dotnet run -c Release --project src/Cli -- bench " + string.Join(' ', kept);
    }

    private static void Log(string line) => Console.Error.WriteLine($"[bench {DateTime.Now:HH:mm:ss}] {line}");
}
