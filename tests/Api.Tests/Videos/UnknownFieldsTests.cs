using System.Net;
using System.Net.Http.Json;
using VQToken.Api.Tests.Infrastructure;

namespace VQToken.Api.Tests.Videos;

/// <summary>A setting the service does not have (a typo, or framerate for fps) is refused by name instead of being ignored.</summary>
public class UnknownFieldsTests(VideosApiFixture service) : IClassFixture<VideosApiFixture>
{
    private HttpClient Client => service.Client;

    [Fact]
    public async Task Upload_with_an_unknown_form_field_is_a_400_naming_it_and_nothing_is_queued()
    {
        int before = await CountAsync();

        var (status, body, _) = await Client.UploadAsync(TestVideos.Mp4(31), new Dictionary<string, string> { ["frames"] = "2", ["framerate"] = "1", ["Kmax"] = "9" });

        ApiClient.AssertProblem(HttpStatusCode.BadRequest, "urn:vqtoken:problem:validation", status, body);
        Assert.NotNull(body["errors"]!["framerate"]);
        Assert.NotNull(body["errors"]!["Kmax"]);
        Assert.Equal(before, await CountAsync());
    }

    [Fact]
    public async Task Known_form_fields_are_matched_without_regard_to_case()
    {
        var (status, body, _) = await Client.UploadAsync(TestVideos.Mp4(32), new Dictionary<string, string> { ["Frames"] = "2", ["MINK"] = "12" });

        Assert.Equal(HttpStatusCode.Accepted, status);
        Assert.Equal(2, (int?)body["settings"]!["frames"]);
    }

    [Fact]
    public async Task Url_body_with_an_unknown_member_is_a_400_naming_it()
    {
        int before = await CountAsync();

        var response = await Client.PostAsJsonAsync("/videos", new { url = "https://example.invalid/clip.mp4", frames = 4, framerate = 1 });
        var body = await ApiClient.BodyAsync(response);

        ApiClient.AssertProblem(HttpStatusCode.BadRequest, "urn:vqtoken:problem:validation", response.StatusCode, body);
        Assert.NotNull(body["errors"]!["framerate"]);
        Assert.Contains("framerate", (string?)body["detail"]);
        Assert.Equal(before, await CountAsync());
    }

    private async Task<int> CountAsync()
    {
        var list = await ApiClient.BodyAsync(await Client.GetAsync("/videos?limit=500"));
        return list["items"]!.AsArray().Count;
    }
}
