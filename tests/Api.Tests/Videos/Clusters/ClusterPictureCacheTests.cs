using System.Net;
using Microsoft.Extensions.DependencyInjection;
using VQToken.Api.ServiceDefaults;
using VQToken.Api.Tests.Infrastructure;
using VQToken.Api.Videos.Clusters;

namespace VQToken.Api.Tests.Videos.Clusters;

/// <summary>A service whose cluster pictures may be drawn two at a time, waiting long enough for a slot
/// that a burst is served rather than refused.</summary>
public sealed class ClusterPictureFixture : IAsyncLifetime
{
    public ServiceFactory Factory { get; } = new(new Dictionary<string, string?>
    {
        ["Clusters:MaxConcurrentRenders"] = "2", ["Clusters:RenderWait"] = "00:02:00",
    });
    public HttpClient Client { get; private set; } = null!;
    public ClusterPictures Pictures => Factory.Services.GetRequiredService<ClusterPictures>();
    public async Task InitializeAsync() => Client = await Factory.ReadyClientAsync();
    public Task DisposeAsync() { Factory.Dispose(); return Task.CompletedTask; }
}

public class ClusterPictureCacheTests(ClusterPictureFixture service) : IClassFixture<ClusterPictureFixture>
{
    private HttpClient Client => service.Client;

    [Fact]
    public async Task Sixteen_concurrent_requests_draw_each_picture_once_at_most_two_at_a_time_and_later_ones_come_from_the_cache()
    {
        var ids = new List<string>();
        for (int i = 0; i < 4; i++)
        {
            var (_, body, _) = await Client.UploadAsync(TestVideos.Mp4(80 + i), new Dictionary<string, string> { ["frames"] = "2", ["k"] = "4" });
            ids.Add((string)body["id"]!);
        }
        foreach (var id in ids) Assert.Equal("ready", (string?)(await Client.WaitProcessedAsync(id))["status"]);
        long before = service.Pictures.RendersStarted;

        var burst = await Task.WhenAll(Enumerable.Range(0, 16).Select(i => FetchAsync(ids[i % 4])));

        Assert.All(burst, r => Assert.Equal((HttpStatusCode.OK, "frames"), (r.Status, r.Background)));
        Assert.Equal(4, service.Pictures.RendersStarted - before);
        Assert.InRange(service.Pictures.PeakConcurrentRenders, 1, 2);
        foreach (var group in burst.GroupBy(r => r.Id)) Assert.Single(group.Select(r => Convert.ToBase64String(r.Png)).Distinct());

        var again = await FetchAsync(ids[0]);
        Assert.Equal(HttpStatusCode.OK, again.Status);
        Assert.Equal(4, service.Pictures.RendersStarted - before);
        Assert.Equal(burst.First(r => r.Id == ids[0]).Png, again.Png);
    }

    private async Task<(string Id, HttpStatusCode Status, string? Background, byte[] Png)> FetchAsync(string id)
    {
        var response = await Client.GetAsync($"/videos/{id}/clusters.png");
        var background = response.Headers.TryGetValues(ClustersApi.BackgroundHeader, out var values) ? values.Single() : null;
        return (id, response.StatusCode, background, await response.Content.ReadAsByteArrayAsync());
    }
}

public class ClusterRenderSlotTests
{
    [Fact]
    public async Task A_picture_request_finding_every_render_slot_busy_is_a_429_with_retry_after()
    {
        using var factory = new ServiceFactory(new Dictionary<string, string?>
        {
            ["Clusters:MaxConcurrentRenders"] = "1", ["Clusters:RenderWait"] = "00:00:00.200",
        });
        var client = await factory.ReadyClientAsync();
        var (_, body, _) = await client.UploadAsync(TestVideos.Mp4(85), new Dictionary<string, string> { ["frames"] = "2", ["k"] = "4" });
        var id = (string)body["id"]!;
        Assert.Equal("ready", (string?)(await client.WaitProcessedAsync(id))["status"]);
        // The one slot, held by a render of another picture that waits for the test.
        var release = new TaskCompletionSource<ClusterPng>(TaskCreationOptions.RunContinuationsAsynchronously);
        var holding = factory.Services.GetRequiredService<ClusterPictures>().GetAsync("01jz8k3q4m5n6p7r8s9t0v1w2x", "held", _ => release.Task, CancellationToken.None);

        var response = await client.GetAsync($"/videos/{id}/clusters.png");

        ApiClient.AssertProblem(HttpStatusCode.TooManyRequests, Problems.Overloaded, response.StatusCode, await ApiClient.BodyAsync(response));
        Assert.True(response.Headers.RetryAfter?.Delta >= TimeSpan.FromSeconds(1), $"Retry-After: {response.Headers.RetryAfter}");
        release.SetResult(new ClusterPng([1], false));
        await holding;
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync($"/videos/{id}/clusters.png")).StatusCode);
    }
}
