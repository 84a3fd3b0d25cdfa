using System.CommandLine;
using System.Text.Json;
using VQToken.Engine.Compression;

namespace VQToken.Cli.Eval;

/// <summary>`eval`: multiple-choice video QA accuracy per compression mode, like lmms-eval's NExT-QA
/// MC task; resumable (results.jsonl is append-only, keyed by sample + mode). Writes report.json,
/// report.md and report.png to --out.</summary>
public sealed class EvalCommand : CliCommand
{
    private readonly Argument<string> _dataset = new("data.jsonl") { Description = "one sample per line: video, question, options, answer (letter)" };
    private readonly Option<string> _checkpoint = CliOptions.Text("--checkpoint", "model checkpoint folder", "DIR", required: true);
    private readonly Option<string> _out = CliOptions.Text("--out", "results.jsonl (resumed), report.json, report.md and report.png go here", "DIR", required: true);
    private readonly ChoiceListOption<CompressionMode> _modes = CliOptions.ChoiceList<CompressionMode>("--modes", "modes to compare, comma-separated",
        CompressionModes.TryParse, "full", "vqtoken-fixed", "vqtoken-adaptive");
    private readonly Option<int> _frames = CliOptions.Int("--frames", "frames sampled per video", 32, min: 1);
    private readonly Option<int> _k = CliOptions.Int("--k", "K (fixed) and the largest K tried (adaptive)", 32, min: 1);
    private readonly Option<int> _minK = CliOptions.Int("--min-k", "smallest K tried (adaptive)", 12, min: 1);
    private readonly ChoiceOption<ElbowIndexing> _elbow = CliOptions.Elbow("elbow rule of the adaptive mode");
    private readonly ChoiceOption<TokenPath> _tokens = CliOptions.TokenPath("--tokens", "token path of the VQToken modes");
    private readonly Option<int> _maxNewTokens = CliOptions.Int("--max-new-tokens", "answer tokens at most", 8, min: 1);
    private readonly Option<string[]> _stop = new("--stop") { Description = "a string that ends an answer, as the HTTP ask's stop (repeatable)", HelpName = "TEXT" };
    private readonly Option<int?> _maxSamples = CliOptions.OptionalInt("--max-samples", "only the first N samples (a partial run; the next run resumes)", min: 1);
    private readonly Option<string> _device = CliOptions.Device("auto");
    private readonly Option<int> _threads = CliOptions.Int("--threads", "libtorch threads (0: one per core)", 0, min: 0);
    private readonly Option<bool> _allowPrivate = CliOptions.Flag("--allow-private", "let video URLs point at private or loopback addresses");

    public EvalCommand() : base("eval", "Multiple-choice video QA accuracy, visual tokens and TokDense per compression mode; resumable.")
    {
        Add(_dataset);
        foreach (var option in new Option[] { _checkpoint, _out, _modes, _frames, _k, _minK, _elbow, _tokens, _maxNewTokens, _stop, _maxSamples, _device, _threads, _allowPrivate })
            Add(option);
    }

    protected override int Execute(ParseResult parsed)
    {
        var settings = new EvalSettings
        {
            Dataset = parsed.GetRequiredValue(_dataset), Checkpoint = parsed.GetRequiredValue(_checkpoint), OutDir = parsed.GetRequiredValue(_out),
            Modes = _modes.ValuesIn(parsed), Elbow = _elbow.ValueIn(parsed), Tokens = _tokens.ValueIn(parsed),
            Frames = parsed.GetValue(_frames), K = parsed.GetValue(_k), MinK = parsed.GetValue(_minK), MaxNewTokens = parsed.GetValue(_maxNewTokens),
            Stop = parsed.GetValue(_stop) ?? [],
            MaxSamples = parsed.GetValue(_maxSamples), Device = parsed.GetRequiredValue(_device),
            Threads = parsed.GetValue(_threads), AllowPrivateUrls = parsed.GetValue(_allowPrivate),
        };
        Directory.CreateDirectory(settings.OutDir);
        var report = CliProgress.RunAsync(progress => new EvalRunner(settings, progress).RunAsync()).GetAwaiter().GetResult();
        report.Write(settings.OutDir, Path.GetFileName(settings.Dataset));
        Console.WriteLine(JsonSerializer.Serialize(new { ok = true, @out = settings.OutDir, modes = report.Modes }));
        return 0;
    }
}
