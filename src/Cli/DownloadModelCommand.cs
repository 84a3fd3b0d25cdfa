using System.CommandLine;
using System.Text.Json;
using VQToken.Engine.Checkpoints.Acquisition;
using VQToken.Testing;

namespace VQToken.Cli;

/// <summary>`download-model [--repo owner/name] [--revision R] [--cache DIR] [--endpoint URL] [--offline]`:
/// fills the model cache the service reads (e.g. before going offline, or in an init container), with
/// the service's own downloader (resumable, verified). HF_TOKEN and HF_ENDPOINT are honoured.</summary>
public sealed class DownloadModelCommand : CliCommand
{
    private readonly Option<string> _repo = CliOptions.Text("--repo", "model repository", "owner/name", ModelOptions.DefaultRepo);
    private readonly Option<string> _revision = CliOptions.Text("--revision", "branch, tag or commit", "R", "main");
    private readonly Option<string> _cache = CliOptions.Text("--cache", "cache folder (default: the service's)", "DIR", "");
    private readonly Option<string> _endpoint = CliOptions.Text("--endpoint", "hub endpoint (default: HF_ENDPOINT or the public hub)", "URL");
    private readonly Option<bool> _offline = CliOptions.Flag("--offline", "use only what the cache holds");

    public DownloadModelCommand() : base("download-model", "Fill the model cache the service reads (resumable, verified); one JSON line.")
    {
        _repo.Validators.Add(r =>
        {
            var repo = r.GetValueOrDefault<string>() ?? "";
            if (repo.Split('/') is not [{ Length: > 0 }, { Length: > 0 }]) r.AddError($"--repo must be owner/name, got '{repo}'");
        });
        _endpoint.Validators.Add(r =>
        {
            if (r.GetValueOrDefault<string>() is { } url && !(Uri.TryCreate(url, UriKind.Absolute, out var uri) && uri.Scheme is "http" or "https"))
                r.AddError($"--endpoint must be an absolute http(s) URL, got '{url}'");
        });
        foreach (var option in new Option[] { _repo, _revision, _cache, _endpoint, _offline }) Add(option);
    }

    protected override int Execute(ParseResult parsed)
    {
        var options = new ModelOptions
        {
            Repo = parsed.GetRequiredValue(_repo),
            Revision = parsed.GetRequiredValue(_revision),
            CacheDir = parsed.GetRequiredValue(_cache),
            Offline = parsed.GetValue(_offline),
        };
        if (parsed.GetValue(_endpoint) is { } endpoint) options.Endpoint = endpoint;
        try
        {
            var model = CliProgress.RunAsync(progress => ResolveAsync(options, progress), bytes: true).GetAwaiter().GetResult();
            Console.WriteLine(JsonSerializer.Serialize(new { ok = true, dir = model.Directory, source = model.Source.ToString().ToLowerInvariant() }));
            return 0;
        }
        catch (ModelAcquisitionException e)
        {
            Console.WriteLine(JsonSerializer.Serialize(new { ok = false, error = e.Error.ToString(), message = e.Message }));
            return 1;
        }
    }

    /// <summary>One bar for the whole checkpoint (bytes); without a terminal, a line every 64 MiB.</summary>
    private static async Task<ResolvedModel> ResolveAsync(ModelOptions options, CliProgress display)
    {
        var bar = display.AddBar($"{options.Repo}@{options.Revision}", total: null);
        long nextReport = 0;
        var progress = new SynchronousProgress<ModelDownloadProgress>(p =>
        {
            bar.Set(p.Bytes, p.TotalBytes);
            if (display.ShowsBars || (p.Bytes < nextReport && p.Bytes != p.TotalBytes)) return;
            nextReport = p.Bytes + (64L << 20);
            display.Log($"{p.Bytes}/{p.TotalBytes?.ToString() ?? "?"} bytes ({p.File})");
        });
        var model = await ModelLocator.ResolveAsync(options, progress, null, null, RandomCheckpoint.WriteDemo, CancellationToken.None);
        bar.Complete();
        return model;
    }

    /// <summary>Reports on the caller's thread, in order (<see cref="Progress{T}"/> posts to the thread pool, which can reorder).</summary>
    private sealed class SynchronousProgress<T>(Action<T> report) : IProgress<T>
    {
        public void Report(T value) => report(value);
    }
}
