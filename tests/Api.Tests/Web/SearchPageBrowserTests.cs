using System.Net.Http.Json;
using System.Text.Json.Nodes;
using VQToken.Api.Tests.Infrastructure;
using VQToken.Api.Tests.Videos;

namespace VQToken.Api.Tests.Web;

/// <summary>The page's search box in a real headless Chromium against the service on 127.0.0.1 with an API key: the
/// ranked list it shows is the API's, best first, each with its cluster picture loaded. Fails, never skips, without
/// chromium, node or npm.</summary>
public class SearchPageBrowserTests
{
    private const string Hint = "The browser test needs Node.js (18+), npm and Chromium (Debian: apt-get install -y nodejs npm chromium).";
    private const string Question = "Is there a dog on the beach?";
    private const string Key = "search-page-key";

    [Fact]
    public async Task Page_search_shows_the_apis_ranking_with_a_thumbnail_per_video()
    {
        string chromium = Environment.GetEnvironmentVariable("CHROMIUM_PATH") ?? "/usr/bin/chromium";
        Assert.True(File.Exists(chromium), $"Chromium is not at {chromium} (set CHROMIUM_PATH). {Hint}");
        var driver = NodePackage.Install(Path.Combine("tests", "Api.Tests", "Web", "browser"), "page-browser-test", Hint);
        string screenshot = Path.Combine(Deployment.RepositoryRoot.Path, "artifacts", "browser", "search.png");
        Directory.CreateDirectory(Path.GetDirectoryName(screenshot)!);
        File.Delete(screenshot);

        var data = Directory.CreateTempSubdirectory("vqtoken-web-search-");
        using var cleanup = new DeleteOnDispose(data);
        await using var server = ServiceProcess.Start(new Dictionary<string, string>
        {
            ["Model:Path"] = ServiceFactory.ModelDirectory, ["Storage:Path"] = data.FullName, ["Video:TempRoot"] = Path.Combine(data.FullName, "tmp"),
            ["Engine:Device"] = "cpu", ["Engine:Threads"] = "2", ["RateLimit:PermitsPerSecond"] = "0", ["Video:DefaultFrames"] = "2",
            ["Auth:ApiKeys:0"] = Key,
        });
        await server.WaitReadyAsync(TimeSpan.FromMinutes(2));
        using var client = server.Client();
        client.DefaultRequestHeaders.Add("X-Api-Key", Key);
        foreach (var variant in new[] { 80, 81, 82 })
        {
            var (_, body, _) = await client.UploadAsync(TestVideos.Mp4(variant));
            Assert.Equal("ready", (string?)(await client.WaitProcessedAsync((string)body["id"]!))["status"]);
        }

        var profile = Directory.CreateTempSubdirectory("vqtoken-chromium-profile-");
        JsonObject seen;
        try
        {
            var output = driver.Run("search-page-test.mjs", [server.BaseAddress.ToString(), screenshot, chromium, profile.FullName, Question, Key], TimeSpan.FromMinutes(4));
            seen = (JsonObject)JsonNode.Parse(output.Split('\n', StringSplitOptions.RemoveEmptyEntries).Last(l => l.StartsWith('{')))!;
        }
        finally
        {
            profile.Delete(recursive: true);
        }
        Assert.True((bool?)seen["ok"] == true, "the page test failed: " + seen.ToJsonString());
        Assert.Empty(seen["blocked"]!.AsArray());
        Assert.Empty(seen["pageErrors"]!.AsArray());
        Assert.Null((string?)seen["errorBox"]);
        Assert.Equal("done", (string?)seen["searchState"]);
        Assert.Equal(1, (int)seen["searchRequests"]!);

        var api = await ApiClient.BodyAsync(await client.PostAsJsonAsync("/videos/search", new { question = Question, top = 10, evidence = true }));
        var expected = api["results"]!.AsArray().Select(r => (string)r!["id"]!).ToList();
        Assert.Equal(3, expected.Count);
        Assert.Equal(expected, seen["ids"]!.AsArray().Select(i => (string)i!));
        // Each result names its best frame's time (the page asks with evidence).
        var bestTimes = api["results"]!.AsArray().Select(r => (double)r!["frames"]![0]!["time"]!).ToList();
        Assert.All(seen["texts"]!.AsArray().Zip(bestTimes), p =>
            Assert.EndsWith(string.Create(System.Globalization.CultureInfo.InvariantCulture, $"best frame at {p.Second:F1} s"), (string)p.First!));
        Assert.All(seen["thumbnails"]!.AsArray(), width => Assert.True((int)width! > 0));
        Assert.Equal(3, seen["thumbnails"]!.AsArray().Count);
    }
}
