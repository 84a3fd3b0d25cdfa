using System.Diagnostics;
using System.Text.Json;
using VQToken.Engine.Checkpoints;

namespace VQToken.Cli;

/// <summary>`make-checkpoint &lt;dir&gt; --size tiny|full [--seed N] [--shards N]`: writes a random
/// checkpoint in the original LLaVA-OneVision layout (config.json, bf16 safetensors, tokenizer files).</summary>
public sealed class MakeCheckpointCommand : ICliCommand
{
    public string Name => "make-checkpoint";
    public string Usage => "make-checkpoint <dir> --size tiny|full [--seed N] [--shards N]: write a random checkpoint (original layout)";

    public int Run(string[] args)
    {
        var a = new CliArgs(args);
        if (a.Positional.Count != 1)
        {
            Console.Error.WriteLine("usage: vqtoken " + Usage);
            return 2;
        }
        var sizeName = a.Get("size", "tiny");
        if (!Enum.TryParse<CheckpointSize>(sizeName, ignoreCase: true, out var size))
        {
            Console.Error.WriteLine($"--size must be tiny or full, got '{sizeName}'");
            return 2;
        }
        var watch = Stopwatch.StartNew();
        var files = RandomCheckpoint.Write(a.Positional[0], new RandomCheckpoint.Options(size, a.GetInt("seed", 0), a.GetInt("shards", 0)));
        Console.WriteLine(JsonSerializer.Serialize(new
        {
            ok = true, dir = a.Positional[0], size = size.ToString().ToLowerInvariant(), files = files.Select(Path.GetFileName),
            bytes = files.Sum(f => new FileInfo(f).Length), seconds = Math.Round(watch.Elapsed.TotalSeconds, 1),
        }));
        return 0;
    }
}
