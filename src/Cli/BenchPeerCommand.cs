using System.CommandLine;
using System.Text.Json;
using TorchSharp;
using VQToken.Cli.Bench;
using VQToken.Engine.Models;
using static TorchSharp.torch;

namespace VQToken.Cli;

/// <summary>`bench-peer`: the work the ONNX Runtime peer (`../shared/peer-ort`) times, on the same
/// positions and frame counts, printed as one JSON line under the peer's key names, so the two engines
/// compare figure by figure when run back to back (`scripts/bench-peer.sh`).</summary>
public sealed class BenchPeerCommand : CliCommand
{
    private readonly Option<string> _model = CliOptions.Text("--model", "checkpoint directory (default: the bench's full-size random one)", "DIR");
    private readonly Option<string> _against = CliOptions.Text("--against", "the peer's JSON line (a file): also print a Markdown table of both, figure by figure", "FILE");
    private readonly Option<int> _reps = CliOptions.Int("--reps", "runs of the cheap timings (short prefill, decode step, matmul); medians", 5, min: 1);
    private readonly Option<int> _heavyReps = CliOptions.Int("--heavy-reps", "runs of vision at 1 frame and the full-token prefill; medians", 3, min: 1);
    private readonly Option<int> _frames = CliOptions.Int("--frames", "frames of the batched vision run (run once) and of the full-token prompt", 8, min: 1, max: 64);
    private readonly Option<int> _threads = CliOptions.Int("--threads", "libtorch (and kernel) threads", 2, min: 1);

    /// <summary>The peer's prompts: the full-token one is F frames of 196 pooled tokens + the newline + 30
    /// text positions; the VQ one 33 visual tokens + 30.</summary>
    public static int FullPositions(int frames) => frames * 196 + 1 + 30;
    public const int VqPositions = 33 + 30;

    public BenchPeerCommand() : base("bench-peer",
        "Time vision (1 and F frames), prefill at the peer's full-token and VQ prompt lengths, a decode step and a 2048² matmul, as the ONNX Runtime peer does; prints one JSON line.")
    {
        Add(_model);
        Add(_reps);
        Add(_heavyReps);
        Add(_frames);
        Add(_threads);
        Add(_against);
    }

    protected override int Execute(ParseResult parsed)
    {
        int reps = parsed.GetValue(_reps), heavy = parsed.GetValue(_heavyReps), frames = parsed.GetValue(_frames);
        torch.set_num_threads(parsed.GetValue(_threads));
        using var noGrad = no_grad();
        var dir = parsed.GetValue(_model) ?? BenchCommand.DefaultCheckpointDir(VQToken.Testing.CheckpointSize.Full);
        if (!File.Exists(Path.Combine(dir, "config.json")))
        {
            Console.Error.WriteLine($"no checkpoint in {dir}: make one with `vqtoken make-checkpoint {dir} --size full` (or run the bench once)");
            return 1;
        }
        var against = parsed.GetValue(_against) is { } file ? JsonDocument.Parse(File.ReadAllLines(file).Last(l => l.TrimStart().StartsWith('{'))) : null;
        using var model = LlavaOneVision.Load(dir, CPU, ScalarType.Float32);
        var results = new Dictionary<string, object>
        {
            ["engine"] = "vqtoken " + (model.Bf16Resident ? "bf16-held" : "float32-held"),
            ["threads"] = torch.get_num_threads(),
            ["cpu_model"] = HardwareProbe.CpuModel(),
        };
        using var generator = new Generator(12345);
        int size = model.Config.Vision.ImageSize, hidden = model.Config.Text.HiddenSize;

        Tensor Pixels(int n) => rand([n, 3, size, size], generator: generator) * 2 - 1;                   // [n, 3, S, S]
        void Vision(Tensor pixels)
        {
            using var scope = NewDisposeScope();
            model.Project(model.EncodeVision(pixels));
        }
        using (var one = Pixels(1))
        using (var many = Pixels(frames))
        {
            Vision(one);   // warm-up
            results["vision_b1_ms_per_frame"] = Round(Median(heavy, () => Vision(one)));
            results["vision_ms_per_frame"] = Round(Median(1, () => Vision(many)) / frames);
        }

        double Prefill(int positions, int runs)
        {
            using var embeds = randn([1, positions, hidden], generator: generator) * 0.035;              // [1, L, D]
            return Median(runs, () =>
            {
                using var scope = NewDisposeScope();
                using var cache = model.Language.NewCache(positions);
                using var region = model.PrefillRegion(positions);   // as the engine runs it
                model.Language.Forward(embeds, cache, lastOnly: true);
            });
        }
        Prefill(VqPositions, 1);   // warm-up
        results["prefill_full_ms"] = Round(Prefill(FullPositions(frames), heavy));
        results["prefill_full_positions"] = FullPositions(frames);
        results["prefill_vq_ms"] = Round(Prefill(VqPositions, reps));
        results["prefill_vq_positions"] = VqPositions;

        using (var cache = model.Language.NewCache(VqPositions + reps + 1))
        {
            using (var embeds = randn([1, VqPositions, hidden], generator: generator) * 0.035)
                model.Language.Forward(embeds, cache, lastOnly: true).Dispose();
            results["decode_step_ms"] = Round(Median(reps, () =>
            {
                using var scope = NewDisposeScope();
                using var region = model.DecodeRegion(1);
                model.Language.DecodeBatch([100], [cache]);   // one position more each run
            }));
        }
        results["matmul2048_gflops"] = Round(HardwareProbe.MatmulFlops(2048, reps) / 1e9);
        results["peak_rss_mib"] = HardwareProbe.PeakRssBytes() >> 20;
        Console.WriteLine(JsonSerializer.Serialize(results));
        if (against is not null) Compare(results, against.RootElement);
        return 0;
    }

    /// <summary>Both engines' figures side by side; "peer / ours" over 1 means ours is faster.</summary>
    private static void Compare(Dictionary<string, object> ours, JsonElement peer)
    {
        Console.WriteLine();
        Console.WriteLine($"| figure (ms) | ours ({ours["engine"]}) | peer ({(peer.TryGetProperty("engine", out var e) ? e.GetString() : "peer")}) | peer / ours |");
        Console.WriteLine("|---|---|---|---|");
        foreach (var key in new[] { "vision_ms_per_frame", "vision_b1_ms_per_frame", "prefill_full_ms", "prefill_vq_ms" })
        {
            if (!peer.TryGetProperty(key, out var value) || value.ValueKind != JsonValueKind.Number) continue;
            double mine = (double)ours[key], theirs = value.GetDouble();
            Console.WriteLine($"| {key} | {mine:F1} | {theirs:F1} | {theirs / mine:F2} |");
        }
    }

    /// <summary>Median wall time in ms of <paramref name="runs"/> runs (the caller warms up).</summary>
    private static double Median(int runs, Action run) => Percentiles.Median(Percentiles.Sample(runs, run));

    /// <summary>0.1 ms is plenty for the real model; below 1 (a tiny checkpoint's decode step) three decimals, so it never reads 0.</summary>
    private static double Round(double value) => Math.Round(value, value < 1 ? 3 : 1);
}
