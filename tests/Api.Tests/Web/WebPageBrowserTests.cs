using System.Net.Http.Json;
using System.Text.Json.Nodes;
using VQToken.Api.Tests.Infrastructure;
using VQToken.Api.Tests.Videos;
using VQToken.Api.Videos.Clusters;

namespace VQToken.Api.Tests.Web;

/// <summary>The page at / in a real headless Chromium (Debian's, driven by playwright-core from node) against
/// the service as a real Kestrel server on 127.0.0.1: upload through the file input, progress until ready,
/// the cluster picture, a streamed answer, then one asked with evidence and its heat picture under it. Fails, never
/// skips, without chromium, node or npm.</summary>
public class WebPageBrowserTests
{
    private const string Hint = "The browser test needs Node.js (18+), npm and Chromium (Debian: apt-get install -y nodejs npm chromium).";
    private const string Question = "What is in this video?";
    private const int MaxNewTokens = 12;

    [Fact]
    public async Task Page_uploads_a_video_shows_its_clusters_streams_the_answer_the_api_gives_and_its_evidence_picture()
    {
        var (seen, direct) = await RunPageAsync(TestVideos.Mp4(7), apiKey: null, "page.png");
        AssertPageWorked(seen, direct);
    }

    /// <summary>With keys on, EventSource (no headers) cannot be used: the page follows progress and loads
    /// the picture with fetch and the X-Api-Key header instead.</summary>
    [Fact]
    public async Task Page_with_an_api_key_stores_it_and_sends_it_on_every_call()
    {
        var (seen, direct) = await RunPageAsync(TestVideos.Mp4(8), apiKey: "page-test-key", "page-with-key.png");
        Assert.Equal("page-test-key", (string?)seen["storedKey"]);
        AssertPageWorked(seen, direct);
    }

    private static void AssertPageWorked(JsonObject seen, JsonObject direct)
    {
        Assert.Empty(seen["blocked"]!.AsArray());        // the page asked nothing of any host but the service
        Assert.Empty(seen["pageErrors"]!.AsArray());
        Assert.Null((string?)seen["errorBox"]);
        Assert.Equal("ready", (string?)seen["status"]);
        Assert.Equal("ready", (string?)seen["listedStatus"]);
        // 2 frames of 27×27 cells of 8 px, 4 px apart and around, a caption strip under each.
        Assert.Equal((2 * (27 * 8 + 4) + 4, 27 * 8 + ClusterPicture.CaptionHeight + 8), ((int)seen["clusters"]!["width"]!, (int)seen["clusters"]!["height"]!));

        string streamed = (string)seen["streamed"]!;
        Assert.False(string.IsNullOrEmpty(streamed), "the page showed no streamed answer");
        Assert.Equal("done", (string?)seen["answerState"]);
        Assert.Equal((string?)seen["done"]!["answer"], streamed);
        // The same greedy question straight to the API gives the answer the page streamed.
        Assert.Equal((string?)direct["answer"], streamed);

        // Asked again with the evidence box ticked: the same answer, its evidence, and the heat picture rendered
        // under it (2 frames, the cluster picture's layout).
        var withEvidence = seen["evidenceDone"]!.AsObject();
        Assert.Equal(streamed, (string?)withEvidence["answer"]);
        Assert.Equal(2, withEvidence["evidence"]!["frames"]!.AsArray().Count);
        Assert.True((bool?)seen["evidence"]!["complete"] == true, seen.ToJsonString());
        Assert.Equal((2 * (27 * 8 + 4) + 4, 27 * 8 + ClusterPicture.CaptionHeight + 8), ((int)seen["evidence"]!["width"]!, (int)seen["evidence"]!["height"]!));
        Assert.Contains("went to the video", (string?)seen["evidenceCaption"]);
    }

    /// <summary>Starts the service (with <paramref name="apiKey"/> as its only key when set), runs the page
    /// in Chromium, then asks the API directly; returns what the page showed and the direct answer.</summary>
    private static async Task<(JsonObject Seen, JsonObject Direct)> RunPageAsync(string video, string? apiKey, string screenshotName)
    {
        string chromium = Environment.GetEnvironmentVariable("CHROMIUM_PATH") ?? "/usr/bin/chromium";
        Assert.True(File.Exists(chromium), $"Chromium is not at {chromium} (set CHROMIUM_PATH). {Hint}");
        var driver = NodePackage.Install(Path.Combine("tests", "Api.Tests", "Web", "browser"), "page-browser-test", Hint);
        string screenshot = Path.Combine(Deployment.RepositoryRoot.Path, "artifacts", "browser", screenshotName);
        Directory.CreateDirectory(Path.GetDirectoryName(screenshot)!);
        File.Delete(screenshot);

        var data = Directory.CreateTempSubdirectory("vqtoken-web-data-");
        var settings = new Dictionary<string, string>
        {
            ["Model:Path"] = ServiceFactory.ModelDirectory, ["Storage:Path"] = data.FullName, ["Video:TempRoot"] = Path.Combine(data.FullName, "tmp"),
            ["Engine:Device"] = "cpu", ["Engine:Threads"] = "2", ["RateLimit:PermitsPerSecond"] = "0", ["Video:DefaultFrames"] = "2",
        };
        if (apiKey is not null) settings["Auth:ApiKeys:0"] = apiKey;
        using var cleanup = new DeleteOnDispose(data);               // disposed after the server stops
        await using var server = ServiceProcess.Start(settings);
        await server.WaitReadyAsync(TimeSpan.FromMinutes(2));
        var profile = Directory.CreateTempSubdirectory("vqtoken-chromium-profile-");
        JsonObject seen;
        try
        {
            string output;
            try
            {
                output = driver.Run("page-test.mjs",
                    [server.BaseAddress.ToString(), video, screenshot, chromium, profile.FullName, Question, MaxNewTokens.ToString(), .. apiKey is null ? Array.Empty<string>() : [apiKey]],
                    TimeSpan.FromMinutes(4));
            }
            catch (InvalidOperationException e)
            {
                throw new InvalidOperationException($"{e.Message}\nservice output:\n{server.Log}", e);
            }
            seen = (JsonObject)JsonNode.Parse(output.Split('\n', StringSplitOptions.RemoveEmptyEntries).Last(l => l.StartsWith('{')))!;
        }
        finally
        {
            profile.Delete(recursive: true);
        }
        Assert.True((bool?)seen["ok"] == true, "the page test failed: " + seen.ToJsonString());
        Assert.True(new FileInfo(screenshot).Length > 0, "no screenshot was saved");

        using var client = new HttpClient { BaseAddress = server.BaseAddress };
        if (apiKey is not null) client.DefaultRequestHeaders.Add("X-Api-Key", apiKey);
        var response = await client.PostAsJsonAsync($"/videos/{(string?)seen["videoId"]}/ask", new { question = Question, maxNewTokens = MaxNewTokens });
        var direct = await ApiClient.BodyAsync(response);
        Assert.True(response.IsSuccessStatusCode, direct.ToJsonString());
        return (seen, direct);
    }
}

/// <summary>Deletes a temporary folder when the test is done.</summary>
internal sealed class DeleteOnDispose(DirectoryInfo directory) : IDisposable
{
    public void Dispose()
    {
        try { directory.Delete(recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }
}
