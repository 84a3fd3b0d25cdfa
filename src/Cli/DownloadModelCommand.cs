using System.Text.Json;
using VQToken.Engine.Checkpoints.Acquisition;

namespace VQToken.Cli;

/// <summary>`download-model [--repo owner/name] [--revision R] [--cache DIR] [--endpoint URL] [--offline]`:
/// fills the model cache the service reads (e.g. before going offline, or in an init container), with
/// the service's own downloader (resumable, verified). HF_TOKEN and HF_ENDPOINT are honoured.</summary>
public sealed class DownloadModelCommand : ICliCommand
{
    public string Name => "download-model";
    public string Usage => "download-model [--repo owner/name] [--revision R] [--cache DIR] [--endpoint URL] [--offline]: fill the model cache";

    public int Run(string[] args)
    {
        var a = new CliArgs(args, "offline");
        var options = new ModelOptions
        {
            Repo = a.Get("repo", ModelOptions.DefaultRepo),
            Revision = a.Get("revision", "main"),
            CacheDir = a.Get("cache", ""),
            Offline = a.Has("offline"),
        };
        if (a.Get("endpoint") is { } endpoint) options.Endpoint = endpoint;
        long nextReport = 0;
        var progress = new Progress<ModelDownloadProgress>(p =>
        {
            if (p.Bytes < nextReport && p.Bytes != p.TotalBytes) return;
            nextReport = p.Bytes + (64L << 20);
            Console.Error.WriteLine($"{p.Bytes}/{p.TotalBytes?.ToString() ?? "?"} bytes ({p.File})");
        });
        try
        {
            var model = ModelLocator.ResolveAsync(options, progress, CancellationToken.None).GetAwaiter().GetResult();
            Console.WriteLine(JsonSerializer.Serialize(new { ok = true, dir = model.Directory, source = model.Source.ToString().ToLowerInvariant() }));
            return 0;
        }
        catch (ModelAcquisitionException e)
        {
            Console.WriteLine(JsonSerializer.Serialize(new { ok = false, error = e.Error.ToString(), message = e.Message }));
            return 1;
        }
    }
}
