using System.Net;
using System.Net.Http.Headers;
using System.Text;
using VQToken.Api.Tests.Infrastructure;

namespace VQToken.Api.Tests.Videos;

public sealed class HostileFixture : IAsyncLifetime
{
    public ServiceFactory Factory { get; } = new(new Dictionary<string, string?> { ["Video:MaxUploadBytes"] = "200000", ["Ask:MaxNewTokens"] = "64" });
    public HttpClient Client { get; private set; } = null!;
    public string ReadyId { get; private set; } = "";

    public async Task InitializeAsync()
    {
        Client = await Factory.ReadyClientAsync();
        var (_, body, _) = await Client.UploadAsync(TestVideos.Mp4(20), new Dictionary<string, string> { ["frames"] = "2" });
        ReadyId = (string)body["id"]!;
        await Client.WaitProcessedAsync(ReadyId);
    }

    public Task DisposeAsync() { Factory.Dispose(); return Task.CompletedTask; }
}

/// <summary>Twenty hostile requests: each gets the right 4xx ProblemDetails, none a 5xx.</summary>
public class HostileRequestTests(HostileFixture service) : IClassFixture<HostileFixture>
{
    private const string Validation = "urn:vqtoken:problem:validation", NotFound = "urn:vqtoken:problem:not-found",
        Unsupported = "urn:vqtoken:problem:unsupported-media", TooLarge = "urn:vqtoken:problem:too-large", UrlRefused = "urn:vqtoken:problem:url-refused";

    public static TheoryData<string, int, string> Cases => new()
    {
        { "bad-json-video", 400, Validation },
        { "bad-json-ask", 400, Validation },
        { "text-plain-video", 415, Unsupported },
        { "text-plain-ask", 415, Unsupported },
        { "oversize-upload", 413, TooLarge },
        { "unknown-id", 404, NotFound },
        { "unknown-id-ask", 404, NotFound },
        { "path-traversal-id", 404, NotFound },
        { "encoded-traversal-id", 404, NotFound },
        { "huge-max-new-tokens", 400, Validation },
        { "negative-max-new-tokens", 400, Validation },
        { "empty-question", 400, Validation },
        { "huge-question", 400, Validation },
        { "bad-temperature", 400, Validation },
        { "too-many-stops", 400, Validation },
        { "invalid-compression", 400, Validation },
        { "frames-too-many", 400, Validation },
        { "url-file-scheme", 400, UrlRefused },
        { "url-loopback", 400, UrlRefused },
        { "list-bad-limit", 400, Validation },
        { "list-bad-status", 400, Validation },
        { "upload-without-file", 400, Validation },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task Hostile_request_gets_the_right_problem(string name, int expectedStatus, string expectedType)
    {
        using var response = await Send(name);
        var body = await ApiClient.BodyAsync(response);
        Assert.True((int)response.StatusCode < 500, $"{name}: {(int)response.StatusCode} {body.ToJsonString()}");
        ApiClient.AssertProblem((HttpStatusCode)expectedStatus, expectedType, response.StatusCode, body);
        Assert.StartsWith("application/problem+json", response.Content.Headers.ContentType?.ToString());
    }

    private Task<HttpResponseMessage> Send(string name)
    {
        var c = service.Client;
        var id = service.ReadyId;
        StringContent Json(string s) => new(s, Encoding.UTF8, "application/json");
        return name switch
        {
            "bad-json-video" => c.PostAsync("/videos", Json("{\"url\": ")),
            "bad-json-ask" => c.PostAsync($"/videos/{id}/ask", Json("{question: nope")),
            "text-plain-video" => c.PostAsync("/videos", new StringContent("hello", Encoding.UTF8, "text/plain")),
            "text-plain-ask" => c.PostAsync($"/videos/{id}/ask", new StringContent("question?", Encoding.UTF8, "text/plain")),
            "oversize-upload" => Upload(new byte[300_000]),
            "unknown-id" => c.GetAsync("/videos/01aaaaaaaaaaaaaaaaaaaaaaaa"),
            "unknown-id-ask" => c.PostAsync("/videos/01aaaaaaaaaaaaaaaaaaaaaaaa/ask", Json("{\"question\":\"hi\"}")),
            "path-traversal-id" => c.GetAsync("/videos/..%2f..%2fetc%2fpasswd"),
            "encoded-traversal-id" => c.PostAsync("/videos/%2e%2e/ask", Json("{\"question\":\"hi\"}")),
            "huge-max-new-tokens" => c.PostAsync($"/videos/{id}/ask", Json("{\"question\":\"hi\",\"maxNewTokens\":100000000}")),
            "negative-max-new-tokens" => c.PostAsync($"/videos/{id}/ask", Json("{\"question\":\"hi\",\"maxNewTokens\":-1}")),
            "empty-question" => c.PostAsync($"/videos/{id}/ask", Json("{\"question\":\"   \"}")),
            "huge-question" => c.PostAsync($"/videos/{id}/ask", Json("{\"question\":\"" + new string('x', 100_000) + "\"}")),
            "bad-temperature" => c.PostAsync($"/videos/{id}/ask", Json("{\"question\":\"hi\",\"temperature\":-3}")),
            "too-many-stops" => c.PostAsync($"/videos/{id}/ask", Json("{\"question\":\"hi\",\"stop\":[\"a\",\"b\",\"c\",\"d\",\"e\"]}")),
            "invalid-compression" => c.PostAsync("/videos", Json("{\"url\":\"https://example.invalid/v.mp4\",\"compression\":\"gzip\"}")),
            "frames-too-many" => c.PostAsync("/videos", Json("{\"url\":\"https://example.invalid/v.mp4\",\"frames\":100000}")),
            "url-file-scheme" => c.PostAsync("/videos", Json("{\"url\":\"file:///etc/passwd\"}")),
            "url-loopback" => c.PostAsync("/videos", Json("{\"url\":\"http://127.0.0.1:9/v.mp4\"}")),
            "list-bad-limit" => c.GetAsync("/videos?limit=0"),
            "list-bad-status" => c.GetAsync("/videos?status=everything"),
            "upload-without-file" => UploadFieldsOnly(),
            _ => throw new ArgumentException(name),
        };
    }

    private Task<HttpResponseMessage> Upload(byte[] bytes)
    {
        var form = new MultipartFormDataContent();
        var file = new ByteArrayContent(bytes);
        file.Headers.ContentType = new MediaTypeHeaderValue("video/mp4");
        form.Add(file, "file", "big.mp4");
        return service.Client.PostAsync("/videos", form);
    }

    private Task<HttpResponseMessage> UploadFieldsOnly()
    {
        var form = new MultipartFormDataContent { { new StringContent("4"), "frames" } };
        return service.Client.PostAsync("/videos", form);
    }
}
