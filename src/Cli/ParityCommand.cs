using System.CommandLine;
using System.Text.Json;
using VQToken.Testing;

namespace VQToken.Cli;

/// <summary>`parity &lt;fixture-dir&gt;`: runs every stage on a parity fixture and prints one JSON line
/// of max abs differences; exit code 0 only when all are within 1e-4 and greedy ids match.</summary>
public sealed class ParityCommand : CliCommand
{
    private readonly Argument<string> _fixture = new("fixture-dir") { Description = "folder of a parity fixture (e.g. shared/fixtures/parity-official-codebook)" };

    public ParityCommand() : base("parity", "Compare every engine stage with a reference fixture (max abs difference 1e-4); one JSON line, exit 1 on a mismatch.") =>
        Add(_fixture);

    protected override int Execute(ParseResult parsed)
    {
        try
        {
            var report = FixtureParity.Run(parsed.GetRequiredValue(_fixture));
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
