using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace VQToken.Engine.Tests.Checkpoints.Download;

/// <summary>A stand-in for the Hugging Face hub on 127.0.0.1: the hub (<c>/api/models/{repo}/revision/{rev}</c>,
/// <c>/{repo}/resolve/{rev}/{file}</c>) and, on a second port (another origin), the LFS "CDN" the hub
/// redirects *.safetensors downloads to (<c>X-Linked-Size</c>, <c>X-Linked-ETag</c> = SHA-256), with
/// Range support, a connection cut and corrupt bytes to order, and a log of every request.</summary>
internal sealed class HubStandIn : IAsyncDisposable
{
    private readonly WebApplication _hub;
    private readonly WebApplication _cdn;
    private readonly ConcurrentQueue<HubRequest> _requests = new();
    private readonly ConcurrentDictionary<string, int> _corruptLeft = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, (long At, Func<Task> Gate)> _cutOnce = new(StringComparer.Ordinal);

    public string Repo { get; }
    public string Revision { get; }
    public IReadOnlyDictionary<string, byte[]> Files { get; }
    public Uri HubUri { get; private set; } = null!;
    public Uri CdnUri { get; private set; } = null!;
    public bool ListingEnabled { get; set; } = true;
    public string? RequiredToken { get; set; }
    public IReadOnlyList<HubRequest> Requests => _requests.ToList();

    private HubStandIn(string repo, string revision, IReadOnlyDictionary<string, byte[]> files)
    {
        Repo = repo;
        Revision = revision;
        Files = files;
        _hub = NewApp();
        _cdn = NewApp();
    }

    public static async Task<HubStandIn> StartAsync(string repo, string revision, IReadOnlyDictionary<string, byte[]> files)
    {
        var server = new HubStandIn(repo, revision, files);
        server.MapHub();
        server.MapCdn();
        await server._hub.StartAsync();
        await server._cdn.StartAsync();
        server.HubUri = new Uri(server._hub.Urls.Single());
        server.CdnUri = new Uri(server._cdn.Urls.Single());
        return server;
    }

    public static string Sha256(byte[] bytes) => Convert.ToHexStringLower(SHA256.HashData(bytes));

    /// <summary>The next <paramref name="times"/> downloads of <paramref name="file"/> serve other bytes of the right length (-1: always).</summary>
    public void Corrupt(string file, int times) => _corruptLeft[file] = times;

    /// <summary>The first download of <paramref name="file"/> sends <paramref name="at"/> bytes, waits for
    /// <paramref name="gate"/> (the client has them), then drops the connection.</summary>
    public void CutOnce(string file, long at, Func<Task> gate) => _cutOnce[file] = (at, gate);

    private static WebApplication NewApp()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        return builder.Build();
    }

    private static bool IsLfs(string file) => file.EndsWith(".safetensors", StringComparison.Ordinal);

    private void MapHub()
    {
        _hub.MapGet("/api/models/{owner}/{name}/revision/{revision}", (HttpContext context, string owner, string name, string revision) =>
        {
            Log("hub", context, 0);
            if (!ListingEnabled || $"{owner}/{name}" != Repo || revision != Revision) return Results.NotFound();
            if (!Authorized(context)) return Results.Unauthorized();
            // Like the real hub: every file of the repository, also ones the service does not need.
            var siblings = Files.Keys.Concat(["README.md", ".gitattributes", "extra/notes.txt"]).Select(f => new { rfilename = f });
            return Results.Json(new { id = Repo, sha = new string('c', 40), siblings });
        });
        _hub.MapMethods("/{owner}/{name}/resolve/{revision}/{file}", ["GET", "HEAD"], async (HttpContext context, string owner, string name, string revision, string file) =>
        {
            if ($"{owner}/{name}" != Repo || revision != Revision || !Files.TryGetValue(file, out var bytes))
            {
                Log("hub", context, 0);
                context.Response.StatusCode = StatusCodes.Status404NotFound;
                return;
            }
            if (!Authorized(context))
            {
                Log("hub", context, 0);
                context.Response.StatusCode = StatusCodes.Status401Unauthorized;
                return;
            }
            if (IsLfs(file))
            {
                Log("hub", context, 0);
                context.Response.StatusCode = StatusCodes.Status302Found;
                context.Response.Headers["X-Linked-Size"] = bytes.Length.ToString();
                context.Response.Headers["X-Linked-ETag"] = $"\"{Sha256(bytes)}\"";
                context.Response.Headers.Location = new Uri(CdnUri, $"/blobs/{Sha256(bytes)}").ToString();
                return;
            }
            // Small files: served by the hub itself; the ETag is a git blob id (SHA-1), not a SHA-256.
            context.Response.Headers.ETag = $"\"{Convert.ToHexStringLower(SHA1.HashData(bytes))}\"";
            await ServeAsync("hub", context, file, bytes);
        });
    }

    private void MapCdn() =>
        _cdn.MapMethods("/blobs/{sha}", ["GET", "HEAD"], async (HttpContext context, string sha) =>
        {
            var match = Files.FirstOrDefault(f => Sha256(f.Value) == sha);
            if (match.Key is null)
            {
                Log("cdn", context, 0);
                context.Response.StatusCode = StatusCodes.Status404NotFound;
                return;
            }
            await ServeAsync("cdn", context, match.Key, match.Value);
        });

    /// <summary>Serves <paramref name="bytes"/>, honouring "Range: bytes=N-", with the faults ordered for the file.</summary>
    private async Task ServeAsync(string server, HttpContext context, string file, byte[] bytes)
    {
        long from = 0;
        var range = context.Request.Headers.Range.ToString();
        if (range.StartsWith("bytes=", StringComparison.Ordinal) && range.EndsWith('-') && long.TryParse(range[6..^1], out var start))
        {
            if (start >= bytes.Length)
            {
                Log(server, context, 0);
                context.Response.StatusCode = StatusCodes.Status416RangeNotSatisfiable;
                return;
            }
            from = start;
            context.Response.StatusCode = StatusCodes.Status206PartialContent;
            context.Response.Headers.ContentRange = $"bytes {from}-{bytes.Length - 1}/{bytes.Length}";
        }
        context.Response.ContentLength = bytes.Length - from;
        if (HttpMethods.IsHead(context.Request.Method))
        {
            Log(server, context, 0);
            return;
        }
        var body = bytes;
        if (_corruptLeft.TryGetValue(file, out var left) && left != 0)
        {
            _corruptLeft[file] = left - 1;
            body = bytes.Select(b => (byte)~b).ToArray(); // same length, other bytes
        }
        if (_cutOnce.TryRemove(file, out var cut))
        {
            await context.Response.Body.WriteAsync(body.AsMemory((int)from, (int)(cut.At - from)));
            await context.Response.Body.FlushAsync();
            Log(server, context, cut.At - from);
            await cut.Gate();
            context.Abort();
            return;
        }
        Log(server, context, bytes.Length - from);
        await context.Response.Body.WriteAsync(body.AsMemory((int)from));
    }

    private bool Authorized(HttpContext context) =>
        RequiredToken is null || context.Request.Headers.Authorization.ToString() == "Bearer " + RequiredToken;

    private void Log(string server, HttpContext context, long bytesSent)
    {
        var range = context.Request.Headers.Range.ToString();
        var authorization = context.Request.Headers.Authorization.ToString();
        _requests.Enqueue(new HubRequest(server, context.Request.Method, context.Request.Path, range.Length > 0 ? range : null,
            authorization.Length > 0 ? authorization : null, bytesSent));
    }

    public async ValueTask DisposeAsync()
    {
        await _hub.StopAsync();
        await _cdn.StopAsync();
        await _hub.DisposeAsync();
        await _cdn.DisposeAsync();
    }
}
