using System.Text.RegularExpressions;
using VQToken.Api.Ingestion;

namespace VQToken.Api.Tests.Deployment;

/// <summary>deploy/nginx/nginx.conf: accepted by the real nginx (after the loopback rewrite of
/// deploy/local/topology.sh) and in step with the service's limits and streaming endpoints.</summary>
public sealed class NginxConfigTests
{
    private static readonly string ConfigPath = RepositoryRoot.File("deploy", "nginx", "nginx.conf");
    private static string Config => File.ReadAllText(ConfigPath);

    [Fact]
    public async Task Nginx_accepts_the_config_rewritten_for_loopback()
    {
        var nginx = RequiredTool.Find("nginx", "apt-get install -y nginx");
        var prefix = Directory.CreateTempSubdirectory("vqtoken-nginx-").FullName;
        try
        {
            var (code, rewritten) = await ToolRun.RunAsync("bash",
                [RepositoryRoot.File("deploy", "local", "topology.sh"), "rewrite", ConfigPath, prefix, "18080", "18081", "18082"]);
            Assert.True(code == 0, "topology.sh rewrite failed:\n" + rewritten);
            Assert.Contains("server 127.0.0.1:18081", rewritten);
            Assert.Contains("server 127.0.0.1:18082", rewritten);
            Assert.DoesNotContain("vqtoken:8080", rewritten);
            var copy = Path.Combine(prefix, "nginx.conf");
            await File.WriteAllTextAsync(copy, rewritten);

            var (test, output) = await ToolRun.RunAsync(nginx, ["-t", "-p", prefix, "-c", copy]);

            Assert.True(test == 0, "nginx -t rejected the config:\n" + output);
        }
        finally
        {
            Directory.Delete(prefix, recursive: true);
        }
    }

    [Fact]
    public void Upload_limit_is_the_service_default_upload_limit()
    {
        var match = Regex.Match(Config, @"^\s*client_max_body_size\s+(\d+)([kKmMgG]?)\s*;", RegexOptions.Multiline);
        Assert.True(match.Success, "nginx.conf sets no client_max_body_size");
        long bytes = long.Parse(match.Groups[1].Value) * (match.Groups[2].Value.ToLowerInvariant() switch
        {
            "k" => 1L << 10, "m" => 1L << 20, "g" => 1L << 30, _ => 1L,
        });
        Assert.Equal(new IngestionOptions().MaxUploadBytes, bytes);
        Assert.Matches(@"(?m)^\s*proxy_request_buffering\s+off\s*;", Config);
    }

    [Theory]
    [InlineData("/videos/abc123/events")]
    [InlineData("/videos/abc123/ask")]
    [InlineData("/v1/chat/completions")]
    public void Streaming_endpoints_are_proxied_unbuffered_with_a_long_read_timeout(string path)
    {
        var block = LocationBlockFor(path);
        Assert.Matches(@"proxy_buffering\s+off\s*;", block);
        var timeout = Regex.Match(block, @"proxy_read_timeout\s+(\d+)s\s*;");
        Assert.True(timeout.Success && int.Parse(timeout.Groups[1].Value) >= 600, $"{path}: proxy_read_timeout under 600 s in:\n{block}");
    }

    [Fact]
    public void Other_video_routes_keep_the_default_location()
    {
        Assert.DoesNotContain("proxy_buffering", LocationBlockFor("/videos/abc123"));
        Assert.DoesNotContain("proxy_buffering", LocationBlockFor("/videos/abc123/frames"));
    }

    [Theory]
    [InlineData("/videos/abc123", "vqtoken_by_video")]
    [InlineData("/videos/abc123/ask", "vqtoken_by_video")]
    [InlineData("/videos/abc123/events", "vqtoken_by_video")]
    [InlineData("/videos/abc123/clusters.png", "vqtoken_by_video")]
    [InlineData("/videos", "vqtoken")]
    [InlineData("/v1/chat/completions", "vqtoken")]
    public void Video_routes_go_to_the_upstream_hashed_on_the_video_id_and_the_rest_to_least_connections(string path, string upstream)
    {
        Assert.Matches($@"proxy_pass\s+http://{upstream}\s*;", LocationBlockFor(path));
        Assert.Matches(@"upstream\s+vqtoken_by_video\s*\{[^}]*hash\s+\$vqtoken_video\s+consistent\s*;", Config);
        Assert.Matches(@"upstream\s+vqtoken\s*\{[^}]*least_conn\s*;", Config);
        var map = Regex.Match(Config, @"map\s+\$uri\s+\$vqtoken_video\s*\{\s*~(\S+)\s+\$(\w+)\s*;");
        Assert.True(map.Success, "no map of $uri to $vqtoken_video");
        var id = Regex.Match(path, map.Groups[1].Value).Groups[map.Groups[2].Value].Value;
        Assert.Equal(upstream == "vqtoken_by_video" ? "abc123" : "", id);
    }

    /// <summary>The body of the location nginx picks for <paramref name="path"/> (exact, then regex, then "/"),
    /// for a config whose locations do not nest.</summary>
    private static string LocationBlockFor(string path)
    {
        var blocks = Regex.Matches(Config, @"location\s+(=|~)?\s*(\S+)\s*\{([^}]*)\}")
            .Select(m => (Kind: m.Groups[1].Value, Pattern: m.Groups[2].Value, Body: m.Groups[3].Value))
            .ToList();
        var exact = blocks.FirstOrDefault(b => b.Kind == "=" && b.Pattern == path);
        if (exact.Body is not null) return exact.Body;
        var regex = blocks.FirstOrDefault(b => b.Kind == "~" && Regex.IsMatch(path, b.Pattern));
        if (regex.Body is not null) return regex.Body;
        return blocks.Single(b => b.Kind == "" && b.Pattern == "/").Body;
    }
}
