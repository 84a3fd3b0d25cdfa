using System.Net;
using System.Text.Json.Nodes;
using VQToken.Api.Tests.Infrastructure;
using VQToken.Api.Tests.Videos;

namespace VQToken.Api.Tests.OpenAi;

/// <summary>/v1 under API keys, rate limits and overload (each test with its own service).</summary>
public class ChatCompletionsLimitsTests
{
    [Fact]
    public async Task Api_keys_isolate_videos_and_bearer_keys_work_as_openai_clients_send_them()
    {
        using var factory = new ServiceFactory(new Dictionary<string, string?> { ["Auth:ApiKeys:0"] = "alpha-key", ["Auth:ApiKeys:1"] = "beta-key" });
        await factory.ReadyClientAsync();
        var alpha = WithBearer(factory, "alpha-key");
        var (_, uploaded, _) = await alpha.UploadAsync(TestVideos.Mp4(23), new Dictionary<string, string> { ["frames"] = "2" });
        var id = (string)uploaded["id"]!;
        await alpha.WaitProcessedAsync(id);
        var request = ChatCompletionsClient.Ask(new JsonObject { ["type"] = "video", ["video_id"] = id });

        var (status, body, _) = await alpha.CompleteAsync(request);
        Assert.True(status == HttpStatusCode.OK, body.ToJsonString());

        var (otherStatus, otherBody, otherResponse) = await WithBearer(factory, "beta-key").CompleteAsync(request);
        OpenAiSchema.AssertError(HttpStatusCode.NotFound, "urn:vqtoken:problem:not-found", "not_found_error", otherStatus, otherBody, otherResponse);

        var (deniedStatus, deniedBody, deniedResponse) = await factory.CreateClient().CompleteAsync(request);
        OpenAiSchema.AssertError(HttpStatusCode.Unauthorized, "urn:vqtoken:problem:unauthorized", "authentication_error", deniedStatus, deniedBody, deniedResponse);
    }

    [Fact]
    public async Task Rate_limited_caller_gets_a_429_problem_with_an_openai_error()
    {
        using var factory = new ServiceFactory(new Dictionary<string, string?> { ["RateLimit:PermitsPerSecond"] = "1", ["RateLimit:Burst"] = "3" });
        var client = factory.CreateClient();

        var responses = new List<HttpResponseMessage>();
        for (int i = 0; i < 8; i++) responses.Add(await client.GetAsync("/v1/models"));

        var limited = responses.FirstOrDefault(r => r.StatusCode == HttpStatusCode.TooManyRequests);
        Assert.True(limited is not null, "8 requests at once with a burst of 3 were all served");
        OpenAiSchema.AssertError(HttpStatusCode.TooManyRequests, "urn:vqtoken:problem:rate-limited", "rate_limit_error", limited.StatusCode, await ApiClient.BodyAsync(limited), limited);
    }

    [Fact]
    public async Task Overloaded_engine_is_a_429_problem_with_retry_after()
    {
        using var factory = new ServiceFactory(new Dictionary<string, string?> { ["Engine:MaxQueuedRequests"] = "1" });
        var client = await factory.ReadyClientAsync();
        var (_, uploaded, _) = await client.UploadAsync(TestVideos.Mp4(24), new Dictionary<string, string> { ["frames"] = "2" });
        var id = (string)uploaded["id"]!;
        await client.WaitProcessedAsync(id);

        var replies = await Task.WhenAll(Enumerable.Range(0, 40).Select(i =>
            client.CompleteAsync(ChatCompletionsClient.Ask(ChatCompletionsClient.VideoUrlPart($"vqtoken://videos/{id}"), $"question {i}", maxTokens: 16))));

        Assert.All(replies, r => Assert.Contains(r.Status, new[] { HttpStatusCode.OK, HttpStatusCode.TooManyRequests }));
        var rejected = replies.Where(r => r.Status == HttpStatusCode.TooManyRequests).ToList();
        Assert.NotEmpty(rejected);
        var (status, body, response) = rejected[0];
        Assert.True(response.Headers.RetryAfter is not null, "429 without Retry-After");
        OpenAiSchema.AssertError(HttpStatusCode.TooManyRequests, "urn:vqtoken:problem:overloaded", "rate_limit_error", status, body, response);
    }

    private static HttpClient WithBearer(ServiceFactory factory, string key)
    {
        var client = factory.CreateClient();
        client.DefaultRequestHeaders.Authorization = new("Bearer", key);
        return client;
    }
}
