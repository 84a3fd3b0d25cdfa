using System.CommandLine;
using System.CommandLine.Parsing;
using System.Globalization;
using VQToken.Engine.Checkpoints;
using VQToken.Engine.Compression;
using VQToken.Testing;

namespace VQToken.Cli.Bench;

/// <summary>`bench`: the paper's efficiency claims measured on our engine over a random full-size
/// checkpoint (generated into a cache folder when missing) and an ffmpeg-generated video. Writes
/// bench.json and bench-ratios.png to --out and updates docs/BENCHMARKS.md (its own section).</summary>
public sealed class BenchCommand : CliCommand
{
    private readonly Option<string> _out = CliOptions.Text("--out", "bench.json and bench-ratios.png go here", "DIR", required: true);
    private readonly Option<bool> _smoke = CliOptions.Flag("--smoke", "tiny checkpoint, 2 frames, short answers: seconds (what CI runs)");
    private readonly Option<string> _checkpoint = CliOptions.Text("--checkpoint", "checkpoint folder; a random one is generated there when it holds none (default: a cache folder)", "DIR");
    private readonly Option<int?> _frames = CliOptions.OptionalInt("--frames", "frames per video (default 8; smoke 2)", min: 1);
    private readonly Option<int?> _prefillFrames = CliOptions.OptionalInt("--prefill-frames", "frames of the LLM-only prefill comparison (default 32; smoke 4)", min: 1);
    private readonly Option<int?> _k = CliOptions.OptionalInt("--k", "K (fixed) and the largest K tried (adaptive) (default 32; smoke 8)", min: 1);
    private readonly Option<int?> _minK = CliOptions.OptionalInt("--min-k", "smallest K tried (adaptive) (default 12; smoke 2)", min: 1);
    private readonly Option<int?> _tokens = CliOptions.OptionalInt("--tokens", "answer length in tokens (default 16; smoke 4)", min: 1);
    private readonly Option<int?> _repeats = CliOptions.OptionalInt("--repeats", "repeats of each ask measurement, median reported (default 3; smoke 1)", min: 1);
    private readonly Option<int?> _fullPrefillRepeats = CliOptions.OptionalInt("--full-prefill-repeats", "repeats of the long full-token prefill (default 1)", min: 1);
    private readonly ChoiceOption<TokenPath> _tokenPath = CliOptions.TokenPath("--token-path", "token path of the VQToken scenarios");
    private readonly ChoiceOption<ElbowIndexing> _elbow = CliOptions.Elbow("elbow rule of the adaptive scenario");
    private readonly Option<int?> _concurrency = CliOptions.OptionalInt("--concurrency", "asks at once in the throughput scenario (default 8)", min: 1);
    private readonly Option<string> _device = CliOptions.Device("cpu");
    private readonly ChoiceOption<string> _dtype = CliOptions.Choice("--dtype", "weight type (auto: float32 on CPU, bfloat16 on CUDA)",
        (string? text, out string dtype) => (dtype = text?.Trim().ToLowerInvariant() ?? "") is "auto" or "float32" or "bfloat16" or "float16",
        "auto", "float32", "bfloat16", "float16");
    private readonly Option<int?> _threads = CliOptions.OptionalInt("--threads", "libtorch threads (default 0: one per core)", min: 0);
    private readonly Option<string> _docs = CliOptions.Text("--docs", "Markdown file whose benchmark section is updated (default: docs/BENCHMARKS.md when present; smoke: none)", "FILE");
    private readonly Option<bool> _noDocs = CliOptions.Flag("--no-docs", "leave the docs alone");
    private readonly Option<int?> _loadNeighbours = CliOptions.OptionalInt("--load-neighbours", "CPU-bound neighbour processes of the under-load scenario (default: one per core; 0 skips it)", min: 0);
    private readonly Option<string> _scalingFrames = CliOptions.Text("--scaling-frames", "frame counts of the scaling scenario, comma-separated, or none (default 8,32,64,128,256; smoke 2,4)", "N,N,...");
    private readonly Option<int?> _scalingVisionUpTo = CliOptions.OptionalInt("--scaling-vision-up-to", "run the vision tower in the scaling scenario up to this many frames (default 32; seconds per frame)", min: 0);
    private readonly Option<string> _scalingTinyFrames = CliOptions.Text("--scaling-tiny-frames", "frame counts of the scaling scenario on the tiny model, or none (default 8,1024; smoke none)", "N,N,...");
    private readonly Option<string> _render = CliOptions.Text("--render", "only write the chart and the docs section of an earlier run's bench.json", "bench.json");

    public BenchCommand() : base("bench",
        "Efficiency benchmark on a random full-size checkpoint and a generated video: writes bench.json and bench-ratios.png and updates docs/BENCHMARKS.md.")
    {
        foreach (var option in new Option[]
                 {
                     _out, _smoke, _checkpoint, _frames, _prefillFrames, _k, _minK, _tokens, _repeats, _fullPrefillRepeats, _tokenPath, _elbow,
                     _concurrency, _device, _dtype, _threads, _docs, _noDocs, _loadNeighbours, _scalingFrames, _scalingVisionUpTo, _scalingTinyFrames, _render,
                 })
            Add(option);
        Validators.Add(r =>
        {
            if (r.GetResult(_docs) is { Implicit: false } && r.GetValue(_noDocs)) r.AddError("--docs and --no-docs exclude each other");
            foreach (var option in new[] { _scalingFrames, _scalingTinyFrames })
            {
                if (r.GetResult(option) is { Implicit: false } && !ScalingScenario.TryParseCounts(r.GetValue(option), out _))
                    r.AddError($"{option.Name} takes frame counts separated by commas (e.g. 8,32), or none");
            }
        });
    }

    protected override int Execute(ParseResult parsed)
    {
        var settings = Parse(parsed, Path.GetFullPath(parsed.GetRequiredValue(_out)));
        var args = CommandArgs(parsed);
        Directory.CreateDirectory(settings.OutDir);
        if (parsed.GetValue(_render) is { } measured) return Render(measured, settings, args);
        var results = CliProgress.RunAsync(progress => MeasureAsync(settings, progress)).GetAwaiter().GetResult();

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

    /// <summary>Checkpoint, video, then the scenarios; one bar over all their stages.</summary>
    private static async Task<BenchResults> MeasureAsync(BenchSettings settings, CliProgress progress)
    {
        var bar = progress.AddBar("bench", BenchRunner.Stages + 2);
        bar.Describe("bench: checkpoint");
        if (EnsureCheckpoint(settings, progress))
        {
            // The peak RSS goals measure the serving path, not the generator that ran in this process.
            GC.Collect();
            GC.WaitForPendingFinalizers();
            if (!HardwareProbe.ResetPeakRss()) BenchRunner.Log(progress, "could not reset the peak RSS: it includes the checkpoint generator");
        }
        bar.Advance();
        var videoDir = Directory.CreateTempSubdirectory("vqtoken-bench-");
        try
        {
            bar.Describe("bench: video");
            int side = settings.Smoke ? 160 : 640;
            var video = SyntheticVideo.Generate(Path.Combine(videoDir.FullName, "bench.mp4"), side, side * 9 / 16, settings.Smoke ? 2 : 10);
            bar.Advance();
            var results = await new BenchRunner(settings, progress, bar).RunAsync(video);
            bar.Complete();
            return results;
        }
        finally
        {
            videoDir.Delete(recursive: true);
        }
    }

    /// <summary>The arguments after the command name, as given (the docs show them).</summary>
    private static string[] CommandArgs(ParseResult parsed) =>
        parsed.Tokens.SkipWhile(t => t.Type != TokenType.Command).Skip(1).Select(t => t.Value).ToArray();

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

    private BenchSettings Parse(ParseResult parsed, string outDir)
    {
        bool smoke = parsed.GetValue(_smoke);
        var size = smoke ? CheckpointSize.Tiny : CheckpointSize.Full;
        var checkpoint = parsed.GetValue(_checkpoint) ?? DefaultCheckpointDir(size);
        var b = smoke ? BenchSettings.SmokeSettings(checkpoint, outDir) : new BenchSettings { Checkpoint = checkpoint, OutDir = outDir };
        string? docs = parsed.GetValue(_noDocs) ? null : parsed.GetValue(_docs) ?? (smoke ? null : File.Exists("docs/BENCHMARKS.md") ? "docs/BENCHMARKS.md" : null);
        return b with
        {
            Frames = parsed.GetValue(_frames) ?? b.Frames, PrefillFrames = parsed.GetValue(_prefillFrames) ?? b.PrefillFrames, K = parsed.GetValue(_k) ?? b.K,
            MinK = parsed.GetValue(_minK) ?? b.MinK, AnswerTokens = parsed.GetValue(_tokens) ?? b.AnswerTokens, Repeats = parsed.GetValue(_repeats) ?? b.Repeats,
            FullPrefillRepeats = parsed.GetValue(_fullPrefillRepeats) ?? b.FullPrefillRepeats, Concurrency = parsed.GetValue(_concurrency) ?? b.Concurrency,
            Device = parsed.GetRequiredValue(_device), DType = _dtype.ValueIn(parsed), Threads = parsed.GetValue(_threads) ?? b.Threads, DocsFile = docs,
            Tokens = _tokenPath.ValueIn(parsed), Elbow = _elbow.ValueIn(parsed),
            LoadNeighbours = parsed.GetValue(_loadNeighbours) ?? b.LoadNeighbours,
            ScalingFrames = ScalingScenario.TryParseCounts(parsed.GetValue(_scalingFrames), out var scaling) ? scaling : b.ScalingFrames,
            ScalingVisionUpTo = parsed.GetValue(_scalingVisionUpTo) ?? b.ScalingVisionUpTo,
            ScalingTinyFrames = ScalingScenario.TryParseCounts(parsed.GetValue(_scalingTinyFrames), out var tiny) ? tiny : b.ScalingTinyFrames,
        };
    }

    /// <summary>$XDG_CACHE_HOME/vqtoken/bench-{size} (or ~/.cache/…): generated once, reused by later runs.</summary>
    internal static string DefaultCheckpointDir(CheckpointSize size)
    {
        var cache = Environment.GetEnvironmentVariable("XDG_CACHE_HOME") is { Length: > 0 } xdg ? xdg
            : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".cache");
        return Path.Combine(cache, "vqtoken", "bench-" + size.ToString().ToLowerInvariant());
    }

    /// <returns>True when it had to generate the checkpoint.</returns>
    internal static bool EnsureCheckpoint(BenchSettings settings, CliProgress progress)
    {
        if (File.Exists(Path.Combine(settings.Checkpoint, LlavaConfig.FileName))) return false;
        BenchRunner.Log(progress, $"generating a random {settings.Size.ToString().ToLowerInvariant()} checkpoint in {settings.Checkpoint}");
        RandomCheckpoint.Write(settings.Checkpoint, new RandomCheckpoint.Options(settings.Size, Seed: 1));
        return true;
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
}
