using System.Text.Json;
using VQToken.Engine.Compression;

namespace VQToken.Cli.Eval;

/// <summary>`eval`: multiple-choice video QA accuracy per compression mode, like lmms-eval's NExT-QA
/// MC task; resumable (results.jsonl is append-only, keyed by sample + mode). Writes report.json,
/// report.md and report.png to --out.</summary>
public sealed class EvalCommand : ICliCommand
{
    public string Name => "eval";

    public string Usage =>
        "eval <data.jsonl> --checkpoint <dir> --out <dir> [--modes full,vqtoken-fixed,vqtoken-adaptive] [--frames 32] [--k 32] [--min-k 12] " +
        "[--elbow official|centered] [--tokens codebook|attention] " +
        "[--max-new-tokens 8] [--max-samples N] [--device auto] [--threads 0] [--allow-private]: multiple-choice accuracy, tokens, TokDense per mode";

    public int Run(string[] args)
    {
        var cli = new CliArgs(args, "allow-private");
        if (cli.Positional.Count != 1 || cli.Get("checkpoint") is null || cli.Get("out") is null)
        {
            Console.Error.WriteLine("usage: vqtoken " + Usage);
            return 2;
        }
        var modes = cli.Get("modes", "full,vqtoken-fixed,vqtoken-adaptive").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(m => CompressionModes.TryParse(m, out var mode) ? mode : throw new ArgumentException($"unknown mode '{m}'")).Distinct().ToList();
        if (!CompressionModes.TryParseElbow(cli.Get("elbow", "official"), out var elbow))
            throw new ArgumentException($"--elbow must be official or centered, got '{cli.Get("elbow")}'");
        if (!CompressionModes.TryParseTokenPath(cli.Get("tokens", "codebook"), out var tokens))
            throw new ArgumentException($"--tokens must be codebook or attention, got '{cli.Get("tokens")}'");
        var settings = new EvalSettings
        {
            Elbow = elbow, Tokens = tokens,
            Dataset = cli.Positional[0], Checkpoint = cli.Get("checkpoint")!, OutDir = cli.Get("out")!, Modes = modes,
            Frames = cli.GetInt("frames", 32), K = cli.GetInt("k", 32), MinK = cli.GetInt("min-k", 12), MaxNewTokens = cli.GetInt("max-new-tokens", 8),
            MaxSamples = cli.Has("max-samples") ? cli.GetInt("max-samples", 0) : null, Device = cli.Get("device", "auto"),
            Threads = cli.GetInt("threads", 0), AllowPrivateUrls = cli.Has("allow-private"),
        };
        Directory.CreateDirectory(settings.OutDir);
        var report = new EvalRunner(settings, line => Console.Error.WriteLine("[eval] " + line)).RunAsync().GetAwaiter().GetResult();
        report.Write(settings.OutDir, Path.GetFileName(settings.Dataset));
        Console.WriteLine(JsonSerializer.Serialize(new { ok = true, @out = settings.OutDir, modes = report.Modes }));
        return 0;
    }
}
