using System.Text.Json;
using VQToken.Engine.Parity;

namespace VQToken.Cli;

/// <summary>`parity &lt;fixture-dir&gt;`: runs every stage on a parity fixture and prints one JSON line
/// of max abs differences; exit code 0 only when all are within 1e-4 and greedy ids match.</summary>
public sealed class ParityCommand : ICliCommand
{
    public string Name => "parity";
    public string Usage => "parity <fixture-dir>: compare every engine stage with a reference fixture (1e-4)";

    public int Run(string[] args)
    {
        var a = new CliArgs(args);
        if (a.Positional.Count != 1)
        {
            Console.Error.WriteLine("usage: vqtoken " + Usage);
            return 2;
        }
        try
        {
            var report = FixtureParity.Run(a.Positional[0]);
            Console.WriteLine(JsonSerializer.Serialize(report));
            return report.Ok ? 0 : 1;
        }
        catch (Exception e) when (e is IOException or InvalidDataException or KeyNotFoundException or ArgumentException or NotSupportedException)
        {
            Console.WriteLine(JsonSerializer.Serialize(new { ok = false, error = e.Message }));
            return 1;
        }
    }
}
