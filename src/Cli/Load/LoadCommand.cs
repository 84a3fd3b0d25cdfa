using System.CommandLine;
using System.Text.Json;

namespace VQToken.Cli.Load;

/// <summary>`load`: N clients × M asks against a running service's POST /videos/{id}/ask; prints one
/// JSON report (throughput, latency percentiles, errors by status). Exit code 1 when any ask failed.</summary>
public sealed class LoadCommand : CliCommand
{
    private readonly Option<string> _url = CliOptions.Text("--url", "base URL of the service, e.g. http://127.0.0.1:5080", "URL", required: true);
    private readonly Option<string> _videoId = CliOptions.Text("--video-id", "id of a processed video", "ID", required: true);
    private readonly Option<int> _clients = CliOptions.Int("--clients", "concurrent clients", 8, min: 1);
    private readonly Option<int> _asks = CliOptions.Int("--asks", "asks per client, one after another", 4, min: 1);
    private readonly Option<string> _question = CliOptions.Text("--question", "the question asked", "TEXT", "What is happening in this video?");
    private readonly Option<int> _maxNewTokens = CliOptions.Int("--max-new-tokens", "answer tokens at most", 16, min: 1);
    private readonly Option<double> _timeout = CliOptions.Double("--timeout-s", "timeout of one ask, seconds", 300, min: 0.001);

    public LoadCommand() : base("load", "HTTP load test of the ask endpoint of a running service; one JSON report, exit 1 when any ask failed.")
    {
        _url.Validators.Add(r =>
        {
            if (r.GetValueOrDefault<string>() is { } url && !(Uri.TryCreate(url, UriKind.Absolute, out var uri) && uri.Scheme is "http" or "https"))
                r.AddError($"--url must be an absolute http(s) URL, got '{url}'");
        });
        _videoId.Validators.Add(r =>
        {
            if (string.IsNullOrWhiteSpace(r.GetValueOrDefault<string>())) r.AddError("--video-id must not be empty");
        });
        foreach (var option in new Option[] { _url, _videoId, _clients, _asks, _question, _maxNewTokens, _timeout }) Add(option);
    }

    protected override int Execute(ParseResult parsed)
    {
        var url = parsed.GetRequiredValue(_url);
        var settings = new LoadSettings(new Uri(url.EndsWith('/') ? url : url + "/"), parsed.GetValue(_clients), parsed.GetValue(_asks),
            parsed.GetRequiredValue(_videoId), parsed.GetRequiredValue(_question), parsed.GetValue(_maxNewTokens),
            TimeSpan.FromSeconds(parsed.GetValue(_timeout)));
        var report = new LoadRunner(settings).RunAsync().GetAwaiter().GetResult();
        Console.WriteLine(JsonSerializer.Serialize(report));
        return report.Failed == 0 ? 0 : 1;
    }
}
