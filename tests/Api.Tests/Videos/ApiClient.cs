using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace VQToken.Api.Tests.Videos;

/// <summary>Small helpers over HttpClient for the API tests (bodies parsed as JSON nodes, so tests
/// check the wire format, not our own DTO classes).</summary>
public static class ApiClient
{
    public static async Task<(HttpStatusCode Status, JsonObject Body, HttpResponseMessage Response)> UploadAsync(
        this HttpClient client, string path, IDictionary<string, string>? fields = null, string fileName = "clip.mp4", string contentType = "video/mp4")
    {
        using var form = new MultipartFormDataContent();
        var file = new StreamContent(File.OpenRead(path));
        file.Headers.ContentType = new MediaTypeHeaderValue(contentType);
        form.Add(file, "file", fileName);
        foreach (var (k, v) in fields ?? new Dictionary<string, string>()) form.Add(new StringContent(v), k);
        var response = await client.PostAsync("/videos", form);
        return (response.StatusCode, await BodyAsync(response), response);
    }

    public static async Task<JsonObject> BodyAsync(HttpResponseMessage response)
    {
        var text = await response.Content.ReadAsStringAsync();
        return text.Length == 0 ? new JsonObject() : JsonNode.Parse(text) as JsonObject ?? throw new InvalidDataException("not a JSON object: " + text);
    }

    /// <summary>Polls GET /videos/{id} until ready or failed.</summary>
    public static async Task<JsonObject> WaitProcessedAsync(this HttpClient client, string id, TimeSpan? timeout = null)
    {
        var until = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(90));
        while (true)
        {
            var video = await BodyAsync(await client.GetAsync($"/videos/{id}"));
            var status = (string?)video["status"];
            if (status is "ready" or "failed") return video;
            if (DateTime.UtcNow > until) throw new TimeoutException($"video {id} still {status}");
            await Task.Delay(100);
        }
    }

    /// <summary>Waits until every frame of the video is encoded and its K-means runs (progress "vision" at 1).</summary>
    public static async Task WaitForCompressionAsync(this HttpClient client, string id, TimeSpan? timeout = null)
    {
        var until = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(120));
        while (true)
        {
            var video = await BodyAsync(await client.GetAsync($"/videos/{id}"));
            var progress = video["progress"] as JsonObject;
            if ((string?)video["status"] == "processing" && (string?)progress?["stage"] == "vision" && (double?)progress["fraction"] >= 1) return;
            if ((string?)video["status"] is "ready" or "failed" || DateTime.UtcNow > until)
                throw new InvalidOperationException("the compression was never seen running: " + video.ToJsonString());
            await Task.Delay(50);
        }
    }

    public static async Task<(HttpStatusCode Status, JsonObject Body)> AskAsync(this HttpClient client, string id, object body)
    {
        var response = await client.PostAsJsonAsync($"/videos/{id}/ask", body);
        return (response.StatusCode, await BodyAsync(response));
    }

    /// <summary>Asserts a ProblemDetails body with the given status and type.</summary>
    public static void AssertProblem(HttpStatusCode expectedStatus, string expectedType, HttpStatusCode status, JsonObject body)
    {
        Assert.True(expectedStatus == status, $"expected {(int)expectedStatus}, got {(int)status}: {body.ToJsonString()}");
        Assert.Equal(expectedType, (string?)body["type"]);
        Assert.Equal((int)expectedStatus, (int?)body["status"]);
        Assert.False(string.IsNullOrWhiteSpace((string?)body["title"]));
        Assert.DoesNotContain("   at ", body.ToJsonString());   // no stack traces
    }
}
