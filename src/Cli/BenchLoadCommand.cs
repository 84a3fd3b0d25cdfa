using System.CommandLine;
using System.Globalization;
using System.Text.Json.Nodes;
using TorchSharp;
using VQToken.Cli.Bench;
using VQToken.Engine.Runtime;
using VQToken.Testing;

namespace VQToken.Cli;

/// <summary>`bench-load`: only the bench's "under load" scenario, printed as one JSON line. The OpenMP wait
/// policy is fixed when libtorch loads, so comparing policies means one process per policy.</summary>
public sealed class BenchLoadCommand : CliCommand
{
    private readonly Option<bool> _smoke = CliOptions.Flag("--smoke", "tiny checkpoint, 1 frame, short answers");
    private readonly Option<string> _checkpoint = CliOptions.Text("--checkpoint", "checkpoint folder (default: the bench's cache folder)", "DIR");
    private readonly Option<int> _neighbours = CliOptions.Int("--neighbours", "CPU-bound neighbour processes", Environment.ProcessorCount, min: 0);
    private readonly Option<int> _visionFrames = CliOptions.Int("--vision-frames", "frames through the tower per pass", 2, min: 1);
    private readonly Option<int> _frames = CliOptions.Int("--frames", "frames of the synthetic tokens compressed", 8, min: 1);
    private readonly Option<int> _tokens = CliOptions.Int("--tokens", "answer length in tokens", 16, min: 2);
    private readonly Option<int> _repeats = CliOptions.Int("--repeats", "repeats of compression and ask (median)", 3, min: 1);

    public BenchLoadCommand() : base("bench-load",
        "Time vision, compression, VQ prefill and decode quiet and then next to CPU-bound neighbour processes; prints one JSON line.")
    {
        foreach (var option in new Option[] { _smoke, _checkpoint, _neighbours, _visionFrames, _frames, _tokens, _repeats }) Add(option);
    }

    protected override int Execute(ParseResult parsed)
    {
        bool smoke = parsed.GetValue(_smoke);
        var size = smoke ? CheckpointSize.Tiny : CheckpointSize.Full;
        var checkpoint = parsed.GetValue(_checkpoint) ?? BenchCommand.DefaultCheckpointDir(size);
        var b = smoke ? BenchSettings.SmokeSettings(checkpoint, Path.GetTempPath()) : new BenchSettings { Checkpoint = checkpoint, OutDir = Path.GetTempPath() };
        var settings = b with
        {
            LoadNeighbours = parsed.GetValue(_neighbours), LoadVisionFrames = parsed.GetValue(_visionFrames), Frames = parsed.GetValue(_frames),
            AnswerTokens = parsed.GetValue(_tokens), Repeats = parsed.GetValue(_repeats),
        };
        var results = CliProgress.RunAsync(async progress =>
        {
            BenchCommand.EnsureCheckpoint(settings, progress);
            torch.set_num_threads(settings.EffectiveThreads);
            await using var session = await BenchSession.OpenAsync(settings);
            var r = new BenchResults();
            var scenario = new UnderLoadScenario(settings, session, line => BenchRunner.Log(progress, line));
            using (var scope = torch.NewDisposeScope())
                await scenario.MeasureAsync(WarmUpTokens(session));   // one-time costs (kernel choice, first allocations) out of the figures
            await scenario.RunAsync(r);
            return r;
        }).GetAwaiter().GetResult();

        var line = new JsonObject
        {
            ["omp_wait_policy"] = Environment.GetEnvironmentVariable(OpenMpWaitPolicy.Variable) ?? "",
            ["gomp_spincount"] = Environment.GetEnvironmentVariable(OpenMpWaitPolicy.SpinCountVariable) ?? "",
            ["cpu"] = HardwareProbe.CpuModel(),
            ["load_average"] = File.Exists("/proc/loadavg") ? File.ReadAllText("/proc/loadavg").Split(' ')[0] : "n/a",
        };
        foreach (var (key, value) in results.Values) line[key] = Math.Round(value, 3);
        Console.WriteLine(line.ToJsonString());
        return 0;

        static TorchSharp.torch.Tensor WarmUpTokens(BenchSession session) =>
            BenchCompressCommand.SyntheticTokens(1, session.Config.Vision.NumPatches, session.Config.Text.HiddenSize, 4, 1.0, 1);
    }
}
