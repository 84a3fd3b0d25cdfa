using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net.Http.Json;
using VQToken.Cli.Bench;

namespace VQToken.Cli.Load;

/// <summary>Runs the clients against the ask endpoint and measures every request end to end
/// (until the whole response body is read, so a streamed answer counts in full).</summary>
public sealed class LoadRunner(LoadSettings settings, HttpMessageHandler? handler = null)
{
    public async Task<LoadReport> RunAsync(CancellationToken cancellationToken = default)
    {
        settings.Validate();
        using var client = handler is null ? new HttpClient() : new HttpClient(handler, disposeHandler: false);
        client.Timeout = settings.Timeout;
        var latencies = new ConcurrentBag<double>();
        var errors = new ConcurrentDictionary<string, int>();
        int succeeded = 0;
        var clock = Stopwatch.StartNew();
        await Task.WhenAll(Enumerable.Range(0, settings.Clients).Select(async _ =>
        {
            for (int i = 0; i < settings.AsksPerClient; i++)
            {
                var (error, ms) = await AskOnceAsync(client, cancellationToken);
                if (error is null) Interlocked.Increment(ref succeeded);
                else errors.AddOrUpdate(error, 1, (_, n) => n + 1);
                latencies.Add(ms);
            }
        }));
        double wall = clock.Elapsed.TotalSeconds;
        int requests = settings.Clients * settings.AsksPerClient;
        var all = latencies.ToArray();
        return new LoadReport(requests, succeeded, requests - succeeded, new SortedDictionary<string, int>(errors), Math.Round(wall, 3),
            Math.Round(succeeded / wall, 3), new Dictionary<string, double>
            {
                ["p50"] = Math.Round(Percentiles.Of(all, 50), 2), ["p90"] = Math.Round(Percentiles.Of(all, 90), 2),
                ["p99"] = Math.Round(Percentiles.Of(all, 99), 2), ["max"] = Math.Round(all.Max(), 2), ["mean"] = Math.Round(all.Average(), 2),
            });
    }

    /// <summary>One ask: error null on success (2xx, body read), else its class; and the time it took.</summary>
    private async Task<(string? Error, double Ms)> AskOnceAsync(HttpClient client, CancellationToken cancellationToken)
    {
        var clock = Stopwatch.StartNew();
        try
        {
            using var response = await client.PostAsJsonAsync(settings.AskUrl,
                new { question = settings.Question, maxNewTokens = settings.MaxNewTokens }, cancellationToken);
            await response.Content.ReadAsByteArrayAsync(cancellationToken);
            string? error = response.IsSuccessStatusCode ? null : ((int)response.StatusCode).ToString(System.Globalization.CultureInfo.InvariantCulture);
            return (error, clock.Elapsed.TotalMilliseconds);
        }
        catch (TaskCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return ("timeout", clock.Elapsed.TotalMilliseconds);
        }
        catch (HttpRequestException)
        {
            return ("connection", clock.Elapsed.TotalMilliseconds);
        }
    }
}
