using System.Globalization;
using System.Text.Json;

namespace VQToken.Cli.Load;

/// <summary>`load`: N clients × M asks against a running service's POST /videos/{id}/ask; prints one
/// JSON report (throughput, latency percentiles, errors by status). Exit code 1 when any ask failed.</summary>
public sealed class LoadCommand : ICliCommand
{
    public string Name => "load";

    public string Usage =>
        "load --url http://127.0.0.1:PORT --video-id ID [--clients 8] [--asks 4] [--question TEXT] [--max-new-tokens 16] [--timeout-s 300]: HTTP load test of the ask endpoint";

    public int Run(string[] args)
    {
        var cli = new CliArgs(args);
        var url = cli.Get("url") ?? throw new ArgumentException("--url is required");
        var settings = new LoadSettings(new Uri(url.EndsWith('/') ? url : url + "/"), cli.GetInt("clients", 8), cli.GetInt("asks", 4),
            cli.Get("video-id") ?? throw new ArgumentException("--video-id is required"),
            cli.Get("question", "What is happening in this video?"), cli.GetInt("max-new-tokens", 16),
            TimeSpan.FromSeconds(double.Parse(cli.Get("timeout-s", "300"), CultureInfo.InvariantCulture)));
        var report = new LoadRunner(settings).RunAsync().GetAwaiter().GetResult();
        Console.WriteLine(JsonSerializer.Serialize(report));
        return report.Failed == 0 ? 0 : 1;
    }
}
