using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;
using VQToken.Api.Tests.Infrastructure;
using VQToken.Api.Tests.OpenAi;

namespace VQToken.Api.Tests.Videos;

/// <summary>The whole service on real Kestrel at 127.0.0.1 (its body limits and minimum data rate apply, as in
/// production) with an API key, a small upload limit, a 2 s grace period for slow bodies and one ready video.</summary>
public sealed class HostileKestrelFixture : IAsyncLifetime
{
    public const string ApiKey = "hostile-input-key";

    public ServiceFactory Factory { get; } = new(new Dictionary<string, string?>
    {
        ["Auth:ApiKeys:0"] = ApiKey,
        ["Video:MaxUploadBytes"] = "200000",
        ["Ask:MaxNewTokens"] = "64",
        ["Http:RequestBodyGracePeriodSeconds"] = "2",
    });
    public HttpClient Client { get; private set; } = null!;
    public int Port { get; private set; }
    public string ReadyId { get; private set; } = "";

    public async Task InitializeAsync()
    {
        var address = Factory.StartKestrel();
        Port = address.Port;
        Client = new HttpClient { BaseAddress = address, Timeout = TimeSpan.FromMinutes(2) };
        Client.DefaultRequestHeaders.Add("X-Api-Key", ApiKey);
        var until = DateTime.UtcNow.AddSeconds(60);
        while (!(await Client.GetAsync("/readyz")).IsSuccessStatusCode)
        {
            if (DateTime.UtcNow > until) throw new TimeoutException("the service did not become ready");
            await Task.Delay(100);
        }
        var (_, body, _) = await Client.UploadAsync(TestVideos.Mp4(40), new Dictionary<string, string> { ["frames"] = "2" });
        ReadyId = (string)body["id"]!;
        Assert.Equal("ready", (string?)(await Client.WaitProcessedAsync(ReadyId))["status"]);
    }

    public Task DisposeAsync()
    {
        Client.Dispose();
        Factory.Dispose();
        return Task.CompletedTask;
    }
}

/// <summary>Hostile requests over a real socket: each is refused with a 4xx problem (with OpenAI's error object
/// under /v1), none gets a 5xx or a stack trace — bad content types and charsets, oversize and malformed bodies,
/// wrong JSON types, absurd numbers, unknown routes and methods, hostile ids, bad multipart, bad query strings,
/// bogus headers, bad OpenAI requests, missing or wrong keys; and truncated and slow uploads on a raw socket.</summary>
public class HostileInputTests(HostileKestrelFixture service) : IClassFixture<HostileKestrelFixture>
{
    private const string Validation = "urn:vqtoken:problem:validation", NotFound = "urn:vqtoken:problem:not-found",
        Unsupported = "urn:vqtoken:problem:unsupported-media", TooLarge = "urn:vqtoken:problem:too-large",
        UrlRefused = "urn:vqtoken:problem:url-refused", Unauthorized = "urn:vqtoken:problem:unauthorized",
        Timeout = "urn:vqtoken:problem:timeout";

    private const string Unknown = "01aaaaaaaaaaaaaaaaaaaaaaaa";
    private const string Chat = "/v1/chat/completions";

    public static TheoryData<string, int, string> Cases => new()
    {
        // content types and charsets on every JSON route
        { "ask-charset-bogus", 415, Unsupported },
        { "ask-charset-quoted-bogus", 415, Unsupported },
        { "video-url-charset-bogus", 415, Unsupported },
        { "chat-charset-bogus", 415, Unsupported },
        { "ask-form-urlencoded", 415, Unsupported },
        { "ask-no-content-type", 415, Unsupported },
        { "chat-text-plain", 415, Unsupported },
        { "video-octet-stream", 415, Unsupported },
        // bodies over the JSON limit, announced or chunked
        { "ask-json-over-limit", 413, TooLarge },
        { "ask-json-over-limit-chunked", 413, TooLarge },
        { "chat-json-over-limit", 413, TooLarge },
        { "video-url-json-over-limit-chunked", 413, TooLarge },
        // malformed JSON and wrong JSON types
        { "ask-empty-body", 400, Validation },
        { "ask-json-null", 400, Validation },
        { "ask-json-array", 400, Validation },
        { "ask-question-number", 400, Validation },
        { "ask-max-new-tokens-word", 400, Validation },
        { "ask-max-new-tokens-overflow", 400, Validation },
        { "ask-max-new-tokens-fraction", 400, Validation },
        { "ask-max-new-tokens-zero", 400, Validation },
        { "ask-temperature-nan", 400, Validation },
        { "ask-top-p-zero", 400, Validation },
        { "ask-top-k-negative", 400, Validation },
        { "ask-stop-empty-string", 400, Validation },
        { "ask-deep-nesting", 400, Validation },
        { "ask-invalid-utf8", 400, Validation },
        // URL videos
        { "video-url-relative", 400, Validation },
        { "video-url-overlong", 400, Validation },
        { "video-url-localhost", 400, UrlRefused },
        { "video-url-ipv6-loopback", 400, UrlRefused },
        { "video-url-k-zero", 400, Validation },
        { "video-url-min-k-above-max-k", 400, Validation },
        { "video-url-frames-negative", 400, Validation },
        // multipart uploads
        { "multipart-no-boundary", 400, Validation },
        { "multipart-truncated", 400, Validation },
        { "multipart-two-files", 400, Validation },
        { "multipart-frames-not-a-number", 400, Validation },
        { "multipart-empty-file", 415, Unsupported },
        { "multipart-garbage-file", 415, Unsupported },
        // routes, methods and ids
        { "unknown-route", 404, NotFound },
        { "unknown-route-accepting-html", 404, NotFound },
        { "put-on-a-video", 405, NotFound },
        { "get-on-ask", 405, NotFound },
        { "overlong-id", 404, NotFound },
        { "dot-dot-id-delete", 404, NotFound },
        { "unknown-id-delete", 404, NotFound },
        { "unknown-id-events-sse", 404, NotFound },
        { "unknown-id-ask-sse", 404, NotFound },
        { "bogus-accept", 404, NotFound },
        { "bogus-range", 404, NotFound },
        // list paging
        { "list-limit-overflow", 400, Validation },
        { "list-limit-negative", 400, Validation },
        { "list-limit-not-a-number", 400, Validation },
        { "list-after-traversal", 400, Validation },
        { "list-status-numeric", 400, Validation },
        // OpenAI requests
        { "chat-no-messages", 400, Validation },
        { "chat-empty-messages", 400, Validation },
        { "chat-messages-not-an-array", 400, Validation },
        { "chat-wizard-role", 400, Validation },
        { "chat-n-2", 400, Validation },
        { "chat-absurd-max-tokens", 400, Validation },
        { "chat-traversal-video-reference", 404, NotFound },
        { "chat-file-video-url", 400, Validation },
        { "chat-unknown-model", 404, NotFound },
        // keys
        { "missing-key", 401, Unauthorized },
        { "wrong-key", 401, Unauthorized },
        { "empty-bearer", 401, Unauthorized },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task Hostile_input_gets_a_4xx_problem_never_a_5xx(string name, int expectedStatus, string expectedType)
    {
        using var request = Build(name);
        using var response = await service.Client.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();

        Assert.True((int)response.StatusCode < 500, $"{name}: {(int)response.StatusCode} {text}");
        Assert.True(response.Content.Headers.ContentType?.MediaType == "application/problem+json",
            $"{name}: {(int)response.StatusCode} {response.Content.Headers.ContentType} {text}");
        var body = JsonNode.Parse(text) as JsonObject ?? throw new InvalidDataException($"{name}: not a JSON object: {text}");
        if (request.RequestUri!.OriginalString.StartsWith("/v1/", StringComparison.Ordinal))
            OpenAiSchema.AssertError((HttpStatusCode)expectedStatus, expectedType, OpenAiErrorType(expectedStatus), response.StatusCode, body, response);
        else
            ApiClient.AssertProblem((HttpStatusCode)expectedStatus, expectedType, response.StatusCode, body);
    }

    [Fact]
    public async Task Multipart_upload_without_its_closing_boundary_on_a_raw_socket_is_a_400_problem()
    {
        var boundary = "hostile-boundary";
        var body = Encoding.ASCII.GetBytes($"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.mp4\"\r\n" +
            "Content-Type: video/mp4\r\n\r\n" + new string('v', 5000));   // ends without "\r\n--boundary--"
        var head = UploadHead(boundary, body.Length);

        var reply = await RawHttp.ExchangeAsync(service.Port, head, body, TimeSpan.FromSeconds(30));

        AssertRawProblem(reply, 400, Validation);
    }

    [Fact]
    public async Task Upload_slower_than_the_minimum_data_rate_is_cut_with_a_408_problem()
    {
        var boundary = "slow-boundary";
        var start = Encoding.ASCII.GetBytes($"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"slow.mp4\"\r\n" +
            "Content-Type: video/mp4\r\n\r\n" + new string('s', 100));
        var head = UploadHead(boundary, 150_000);   // announces 150 kB, sends 100 bytes, then stalls
        var clock = Stopwatch.StartNew();

        var reply = await RawHttp.ExchangeAsync(service.Port, head, start, TimeSpan.FromSeconds(60));

        AssertRawProblem(reply, 408, Timeout);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(30), $"the stalled upload was cut only after {clock.Elapsed}");
    }

    private static byte[] UploadHead(string boundary, int contentLength) => Encoding.ASCII.GetBytes(
        "POST /videos HTTP/1.1\r\nHost: 127.0.0.1\r\n" +
        $"X-Api-Key: {HostileKestrelFixture.ApiKey}\r\n" +
        $"Content-Type: multipart/form-data; boundary={boundary}\r\n" +
        $"Content-Length: {contentLength}\r\nConnection: close\r\n\r\n");

    private static void AssertRawProblem(RawHttp.Reply reply, int status, string type)
    {
        Assert.True(reply.Status == status, $"expected {status}, got {reply.Status}: {reply.Body}");
        Assert.StartsWith("application/problem+json", reply.Header("Content-Type"));
        var body = JsonNode.Parse(reply.Body) as JsonObject ?? throw new InvalidDataException("not a JSON object: " + reply.Body);
        ApiClient.AssertProblem((HttpStatusCode)status, type, (HttpStatusCode)reply.Status, body);
    }

    private static string OpenAiErrorType(int status) => status switch
    {
        401 => "authentication_error",
        404 => "not_found_error",
        _ => "invalid_request_error",
    };

    private HttpRequestMessage Build(string name)
    {
        var id = service.ReadyId;
        string ask = $"/videos/{id}/ask";
        var chatVideo = new JsonObject { ["type"] = "video", ["video_id"] = id };

        return name switch
        {
            "ask-charset-bogus" => Post(ask, Raw("""{"question":"hi"}""", "application/json; charset=bogus")),
            "ask-charset-quoted-bogus" => Post(ask, Raw("""{"question":"hi"}""", "application/json; charset=\"x-no-such-charset\"")),
            "video-url-charset-bogus" => Post("/videos", Raw("""{"url":"https://example.invalid/v.mp4"}""", "application/json; charset=bogus")),
            "chat-charset-bogus" => Post(Chat, Raw(ChatsAbout(chatVideo).ToJsonString(), "application/json; charset=bogus")),
            "ask-form-urlencoded" => Post(ask, new FormUrlEncodedContent(new Dictionary<string, string> { ["question"] = "hi" })),
            "ask-no-content-type" => Post(ask, new ByteArrayContent("""{"question":"hi"}"""u8.ToArray())),
            "chat-text-plain" => Post(Chat, Raw(ChatsAbout(chatVideo).ToJsonString(), "text/plain")),
            "video-octet-stream" => Post("/videos", Bytes(new byte[1000], "application/octet-stream")),

            "ask-json-over-limit" => Post(ask, Json("{\"question\":\"" + new string('q', 1_600_000) + "\"}")),
            "ask-json-over-limit-chunked" => Post(ask, Chunked("{\"question\":\"" + new string('q', 2_000_000) + "\"}")),
            "chat-json-over-limit" => Post(Chat, Json("{\"messages\":[{\"role\":\"user\",\"content\":\"" + new string('m', 1_600_000) + "\"}]}")),
            "video-url-json-over-limit-chunked" => Post("/videos", Chunked("{\"url\":\"https://example.invalid/" + new string('u', 2_000_000) + "\"}")),

            "ask-empty-body" => Post(ask, Json("")),
            "ask-json-null" => Post(ask, Json("null")),
            "ask-json-array" => Post(ask, Json("""["question","hi"]""")),
            "ask-question-number" => Post(ask, Json("""{"question":42}""")),
            "ask-max-new-tokens-word" => Post(ask, Json("""{"question":"hi","maxNewTokens":"lots"}""")),
            "ask-max-new-tokens-overflow" => Post(ask, Json("""{"question":"hi","maxNewTokens":1e400}""")),
            "ask-max-new-tokens-fraction" => Post(ask, Json("""{"question":"hi","maxNewTokens":1.5}""")),
            "ask-max-new-tokens-zero" => Post(ask, Json("""{"question":"hi","maxNewTokens":0}""")),
            "ask-temperature-nan" => Post(ask, Json("""{"question":"hi","temperature":"NaN"}""")),
            "ask-top-p-zero" => Post(ask, Json("""{"question":"hi","topP":0}""")),
            "ask-top-k-negative" => Post(ask, Json("""{"question":"hi","topK":-5}""")),
            "ask-stop-empty-string" => Post(ask, Json("""{"question":"hi","stop":[""]}""")),
            "ask-deep-nesting" => Post(ask, Json("{\"question\":" + new string('[', 5000) + new string(']', 5000) + "}")),
            "ask-invalid-utf8" => Post(ask, Bytes([.. "{\"question\":\""u8, 0xff, 0xfe, 0xc3, .. "\"}"u8], "application/json")),

            "video-url-relative" => Post("/videos", Json("""{"url":"videos/clip.mp4"}""")),
            "video-url-overlong" => Post("/videos", Json("{\"url\":\"https://example.invalid/" + new string('a', 5000) + "\"}")),
            "video-url-localhost" => Post("/videos", Json("""{"url":"http://localhost:9/v.mp4"}""")),
            "video-url-ipv6-loopback" => Post("/videos", Json("""{"url":"http://[::1]:9/v.mp4"}""")),
            "video-url-k-zero" => Post("/videos", Json("""{"url":"https://example.invalid/v.mp4","k":0}""")),
            "video-url-min-k-above-max-k" => Post("/videos", Json("""{"url":"https://example.invalid/v.mp4","compression":"vqtoken-adaptive","minK":40,"maxK":8}""")),
            "video-url-frames-negative" => Post("/videos", Json("""{"url":"https://example.invalid/v.mp4","frames":-4}""")),

            "multipart-no-boundary" => Post("/videos", Bytes(Encoding.ASCII.GetBytes("--x\r\n\r\nhello\r\n--x--\r\n"), "multipart/form-data")),
            "multipart-truncated" => Post("/videos", Bytes(Encoding.ASCII.GetBytes("--cut\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.mp4\"\r\n\r\n" + new string('v', 3000)),
                "multipart/form-data; boundary=cut")),
            "multipart-two-files" => Post("/videos", Form(("file", "a.mp4", File.ReadAllBytes(TestVideos.Mp4(41))), ("file", "b.mp4", File.ReadAllBytes(TestVideos.Mp4(41))))),
            "multipart-frames-not-a-number" => Post("/videos", Form(("frames", null, "many"u8.ToArray()), ("file", "a.mp4", File.ReadAllBytes(TestVideos.Mp4(41))))),
            "multipart-empty-file" => Post("/videos", Form(("file", "empty.mp4", []))),
            "multipart-garbage-file" => Post("/videos", Form(("file", "noise.mp4", Noise(20_000)))),

            "unknown-route" => new HttpRequestMessage(HttpMethod.Get, "/no/such/route"),
            "unknown-route-accepting-html" => Accepting(new HttpRequestMessage(HttpMethod.Get, "/videos/a/b/c"), "text/html"),
            "put-on-a-video" => new HttpRequestMessage(HttpMethod.Put, $"/videos/{id}") { Content = Json("{}") },
            "get-on-ask" => new HttpRequestMessage(HttpMethod.Get, ask),
            "overlong-id" => new HttpRequestMessage(HttpMethod.Get, "/videos/" + new string('7', 4000)),
            "dot-dot-id-delete" => new HttpRequestMessage(HttpMethod.Delete, "/videos/..%2F..%2Fdata"),
            "unknown-id-delete" => new HttpRequestMessage(HttpMethod.Delete, $"/videos/{Unknown}"),
            "unknown-id-events-sse" => Accepting(new HttpRequestMessage(HttpMethod.Get, $"/videos/{Unknown}/events"), "text/event-stream"),
            "unknown-id-ask-sse" => Accepting(Post($"/videos/{Unknown}/ask", Json("""{"question":"hi"}""")), "text/event-stream"),
            "bogus-accept" => Accepting(new HttpRequestMessage(HttpMethod.Get, $"/videos/{Unknown}"), "image/png"),
            "bogus-range" => WithHeader(new HttpRequestMessage(HttpMethod.Get, $"/videos/{Unknown}"), "Range", "bytes=999999999999999999999-1,-0"),

            "list-limit-overflow" => new HttpRequestMessage(HttpMethod.Get, "/videos?limit=99999999999999"),
            "list-limit-negative" => new HttpRequestMessage(HttpMethod.Get, "/videos?limit=-1"),
            "list-limit-not-a-number" => new HttpRequestMessage(HttpMethod.Get, "/videos?limit=abc"),
            "list-after-traversal" => new HttpRequestMessage(HttpMethod.Get, "/videos?after=..%2F..%2Fetc"),
            "list-status-numeric" => new HttpRequestMessage(HttpMethod.Get, "/videos?status=2"),

            "chat-no-messages" => Post(Chat, Json("""{"model":"vqtoken-llava-ov-0.5b"}""")),
            "chat-empty-messages" => Post(Chat, Json("""{"messages":[]}""")),
            "chat-messages-not-an-array" => Post(Chat, Json("""{"messages":"hello"}""")),
            "chat-wizard-role" => Post(Chat, Json(ChatsAbout(chatVideo, role: "wizard").ToJsonString())),
            "chat-n-2" => Post(Chat, Json(With(ChatsAbout(chatVideo), "n", 2).ToJsonString())),
            "chat-absurd-max-tokens" => Post(Chat, Json(With(ChatsAbout(chatVideo), "max_tokens", 1_000_000_000).ToJsonString())),
            "chat-traversal-video-reference" => Post(Chat, Json(ChatsAbout(ChatCompletionsClient.VideoUrlPart("vqtoken://videos/..%2F..%2Fetc%2Fpasswd")).ToJsonString())),
            "chat-file-video-url" => Post(Chat, Json(ChatsAbout(ChatCompletionsClient.VideoUrlPart("file:///etc/passwd")).ToJsonString())),
            "chat-unknown-model" => new HttpRequestMessage(HttpMethod.Get, "/v1/models/gpt-9-ultra"),

            "missing-key" => WithHeader(new HttpRequestMessage(HttpMethod.Get, "/videos"), "X-Api-Key", ""),
            "wrong-key" => WithHeader(new HttpRequestMessage(HttpMethod.Get, $"/videos/{id}"), "X-Api-Key", "not-the-key"),
            "empty-bearer" => WithHeader(WithHeader(new HttpRequestMessage(HttpMethod.Get, "/v1/models"), "X-Api-Key", ""), "Authorization", "Bearer "),
            _ => throw new ArgumentException(name),
        };
    }

    private static HttpRequestMessage Post(string path, HttpContent content) => new(HttpMethod.Post, path) { Content = content };

    private static StringContent Json(string json) => new(json, Encoding.UTF8, "application/json");

    private static ByteArrayContent Raw(string text, string contentType)
    {
        var content = new ByteArrayContent(Encoding.UTF8.GetBytes(text));
        content.Headers.TryAddWithoutValidation("Content-Type", contentType);
        return content;
    }

    private static ByteArrayContent Bytes(byte[] bytes, string contentType)
    {
        var content = new ByteArrayContent(bytes);
        content.Headers.TryAddWithoutValidation("Content-Type", contentType);
        return content;
    }

    /// <summary>A JSON body sent chunked: no Content-Length, so only the server's counting stops it.</summary>
    private static StreamContent Chunked(string json)
    {
        var content = new StreamContent(new UnknownLengthStream(Encoding.UTF8.GetBytes(json)));
        content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        return content;
    }

    private static MultipartFormDataContent Form(params (string Name, string? FileName, byte[] Bytes)[] parts)
    {
        var form = new MultipartFormDataContent();
        foreach (var (name, fileName, bytes) in parts)
        {
            var part = new ByteArrayContent(bytes);
            if (fileName is null) form.Add(part, name);
            else
            {
                part.Headers.ContentType = new MediaTypeHeaderValue("video/mp4");
                form.Add(part, name, fileName);
            }
        }
        return form;
    }

    private static byte[] Noise(int length)
    {
        var bytes = new byte[length];
        new Random(7).NextBytes(bytes);
        return bytes;
    }

    private static HttpRequestMessage Accepting(HttpRequestMessage request, string accept)
    {
        request.Headers.Accept.Clear();
        request.Headers.TryAddWithoutValidation("Accept", accept);
        return request;
    }

    private static HttpRequestMessage WithHeader(HttpRequestMessage request, string name, string value)
    {
        request.Headers.Remove(name);
        request.Headers.TryAddWithoutValidation(name, value);
        return request;
    }

    private static JsonObject ChatsAbout(JsonNode videoPart, string role = "user") => new()
    {
        ["model"] = "vqtoken-llava-ov-0.5b",
        ["messages"] = new JsonArray(new JsonObject
        {
            ["role"] = role,
            ["content"] = new JsonArray(videoPart, new JsonObject { ["type"] = "text", ["text"] = "What happens?" }),
        }),
        ["max_tokens"] = 4,
    };

    private static JsonObject With(JsonObject body, string name, JsonNode value)
    {
        body[name] = value;
        return body;
    }

    /// <summary>A readable stream that does not tell its length (HttpClient then sends it chunked).</summary>
    private sealed class UnknownLengthStream(byte[] bytes) : MemoryStream(bytes)
    {
        public override bool CanSeek => false;
    }
}
