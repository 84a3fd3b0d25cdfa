using System.CommandLine;
using System.Diagnostics;
using System.Text.Json;
using VQToken.Engine.Checkpoints;
using VQToken.Testing;

namespace VQToken.Cli;

/// <summary>`make-checkpoint &lt;dir&gt; --size tiny|full [--seed N] [--shards N]`: writes a random
/// checkpoint in the original LLaVA-OneVision layout (config.json, bf16 safetensors, tokenizer files).</summary>
public sealed class MakeCheckpointCommand : CliCommand
{
    private readonly Argument<string> _dir = new("dir") { Description = "folder to write the checkpoint into" };
    private readonly ChoiceOption<CheckpointSize> _size = CliOptions.Choice("--size", "tiny (tests, seconds) or full (the real 0.5B shapes, ~2 GB)",
        (string? text, out CheckpointSize size) => Enum.TryParse(text, ignoreCase: true, out size) && Enum.IsDefined(size), "tiny", "full");
    private readonly Option<int> _seed = CliOptions.Int("--seed", "random seed of the weights", 0, min: 0);
    private readonly Option<int> _shards = CliOptions.Int("--shards", "safetensors shards (0: the layout's default)", 0, min: 0);

    public MakeCheckpointCommand() : base("make-checkpoint", "Write a random checkpoint in the original LLaVA-OneVision layout.")
    {
        Add(_dir);
        Add(_size);
        Add(_seed);
        Add(_shards);
    }

    protected override int Execute(ParseResult parsed)
    {
        var dir = parsed.GetRequiredValue(_dir);
        var size = _size.ValueIn(parsed);
        var watch = Stopwatch.StartNew();
        var files = RandomCheckpoint.Write(dir, new RandomCheckpoint.Options(size, parsed.GetValue(_seed), parsed.GetValue(_shards)));
        Console.WriteLine(JsonSerializer.Serialize(new
        {
            ok = true, dir, size = size.ToString().ToLowerInvariant(), files = files.Select(Path.GetFileName),
            bytes = files.Sum(f => new FileInfo(f).Length), seconds = Math.Round(watch.Elapsed.TotalSeconds, 1),
        }));
        return 0;
    }
}
