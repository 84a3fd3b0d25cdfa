using System.Net;
using System.Net.Http.Json;
using Microsoft.Extensions.DependencyInjection;
using VQToken.Api.Tests.Infrastructure;
using VQToken.Api.Videos;

namespace VQToken.Api.Tests.Videos;

public class IsolationAndLimitsTests
{
    private static HttpClient WithKey(ServiceFactory factory, string? key)
    {
        var client = factory.CreateClient();
        if (key is not null) client.DefaultRequestHeaders.Add("X-Api-Key", key);
        return client;
    }

    [Fact]
    public async Task Each_api_key_sees_only_its_own_videos()
    {
        using var factory = new ServiceFactory(new Dictionary<string, string?> { ["Auth:ApiKeys:0"] = "alpha-key", ["Auth:ApiKeys:1"] = "beta-key" });
        await factory.ReadyClientAsync();
        var alpha = WithKey(factory, "alpha-key");
        var beta = WithKey(factory, "beta-key");
        var (status, body, _) = await alpha.UploadAsync(TestVideos.Mp4(30), new Dictionary<string, string> { ["frames"] = "2" });
        Assert.Equal(HttpStatusCode.Accepted, status);
        var id = (string)body["id"]!;
        await alpha.WaitProcessedAsync(id);

        var other = await beta.GetAsync($"/videos/{id}");
        ApiClient.AssertProblem(HttpStatusCode.NotFound, "urn:vqtoken:problem:not-found", other.StatusCode, await ApiClient.BodyAsync(other));
        var (askStatus, askBody) = await beta.AskAsync(id, new { question = "hi" });
        ApiClient.AssertProblem(HttpStatusCode.NotFound, "urn:vqtoken:problem:not-found", askStatus, askBody);
        var betaList = await ApiClient.BodyAsync(await beta.GetAsync("/videos"));
        Assert.Empty(betaList["items"]!.AsArray());
        Assert.Equal(HttpStatusCode.NotFound, (await beta.DeleteAsync($"/videos/{id}")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await alpha.GetAsync($"/videos/{id}")).StatusCode);

        // The same bytes from another key are another key's video, not a dedupe hit across owners.
        var (betaStatus, betaBody, _) = await beta.UploadAsync(TestVideos.Mp4(30), new Dictionary<string, string> { ["frames"] = "2" });
        Assert.Equal(HttpStatusCode.Accepted, betaStatus);
        Assert.NotEqual(id, (string?)betaBody["id"]);

        foreach (var key in new[] { null, "wrong-key" })
        {
            var denied = await WithKey(factory, key).GetAsync("/videos");
            ApiClient.AssertProblem(HttpStatusCode.Unauthorized, "urn:vqtoken:problem:unauthorized", denied.StatusCode, await ApiClient.BodyAsync(denied));
        }
        Assert.Equal(HttpStatusCode.OK, (await WithKey(factory, null).GetAsync("/healthz")).StatusCode);
        var bearer = factory.CreateClient();
        bearer.DefaultRequestHeaders.Authorization = new("Bearer", "beta-key");
        Assert.Equal(HttpStatusCode.OK, (await bearer.GetAsync("/videos")).StatusCode);
    }

    [Fact]
    public async Task Failed_video_answers_409_with_the_reason()
    {
        using var factory = new ServiceFactory();
        var client = await factory.ReadyClientAsync();
        var (_, body, _) = await client.UploadAsync(TestVideos.Mp4(31), new Dictionary<string, string> { ["frames"] = "2" });
        var id = (string)body["id"]!;
        await client.WaitProcessedAsync(id);
        // A processing failure a real part cannot be made to produce on demand: set it in the store.
        var store = factory.Services.GetRequiredService<IVideoStore>();
        await store.UpdateAsync(id, r => r with { Status = VideoStatus.Failed, Reason = "decoder exploded" });
        var (status, problem) = await client.AskAsync(id, new { question = "what?" });
        ApiClient.AssertProblem(HttpStatusCode.Conflict, "urn:vqtoken:problem:video-failed", status, problem);
        Assert.Equal("decoder exploded", (string?)problem["detail"]);
    }

    [Fact]
    public async Task Overloaded_engine_answers_429_with_retry_after_and_keeps_serving()
    {
        using var factory = new ServiceFactory(new Dictionary<string, string?> { ["Engine:MaxQueuedRequests"] = "1" });
        var client = await factory.ReadyClientAsync();
        var (_, body, _) = await client.UploadAsync(TestVideos.Mp4(32), new Dictionary<string, string> { ["frames"] = "2" });
        var id = (string)body["id"]!;
        await client.WaitProcessedAsync(id);
        var responses = await Task.WhenAll(Enumerable.Range(0, 40).Select(i =>
            client.PostAsJsonAsync($"/videos/{id}/ask", new { question = $"question {i}", maxNewTokens = 16 })));
        var rejected = responses.Where(r => r.StatusCode == HttpStatusCode.TooManyRequests).ToList();
        Assert.NotEmpty(rejected);
        Assert.All(responses, r => Assert.Contains(r.StatusCode, new[] { HttpStatusCode.OK, HttpStatusCode.TooManyRequests }));
        var first = rejected[0];
        Assert.True(first.Headers.RetryAfter is not null, "429 without Retry-After");
        ApiClient.AssertProblem(HttpStatusCode.TooManyRequests, "urn:vqtoken:problem:overloaded", first.StatusCode, await ApiClient.BodyAsync(first));
        var (after, _) = await client.AskAsync(id, new { question = "still serving?", maxNewTokens = 4 });
        Assert.Equal(HttpStatusCode.OK, after);
    }

    [Fact]
    public async Task Rate_limit_per_key_answers_429()
    {
        using var factory = new ServiceFactory(new Dictionary<string, string?> { ["RateLimit:PermitsPerSecond"] = "1", ["RateLimit:Burst"] = "3" });
        var client = await factory.ReadyClientAsync();
        var statuses = new List<HttpStatusCode>();
        for (int i = 0; i < 8; i++) statuses.Add((await client.GetAsync("/videos")).StatusCode);
        Assert.Contains(HttpStatusCode.TooManyRequests, statuses);
        var limited = await client.GetAsync("/videos");
        if (limited.StatusCode == HttpStatusCode.TooManyRequests)
            ApiClient.AssertProblem(HttpStatusCode.TooManyRequests, "urn:vqtoken:problem:rate-limited", limited.StatusCode, await ApiClient.BodyAsync(limited));
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/readyz")).StatusCode);
    }

    [Fact]
    public async Task Invalid_setting_fails_start_up_naming_the_setting()
    {
        var error = ServiceFactory.StartUpFailure(new Dictionary<string, string?> { ["Engine:Device"] = "tpu" });
        Assert.Contains("Engine:Device", error.ToString());
    }
}
