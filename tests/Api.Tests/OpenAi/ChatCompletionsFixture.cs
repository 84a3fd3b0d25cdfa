using VQToken.Api.Tests.Infrastructure;
using VQToken.Api.Tests.Videos;

namespace VQToken.Api.Tests.OpenAi;

/// <summary>The service in memory with default settings (URL guard on), and one uploaded, processed video.</summary>
public sealed class ChatCompletionsFixture : IAsyncLifetime
{
    public ServiceFactory Factory { get; } = new();
    public HttpClient Client { get; private set; } = null!;
    public string VideoId { get; private set; } = "";

    public async Task InitializeAsync()
    {
        Client = await Factory.ReadyClientAsync();
        var (_, body, _) = await Client.UploadAsync(TestVideos.Mp4(20), new Dictionary<string, string> { ["frames"] = "2", ["k"] = "4" });
        VideoId = (string)body["id"]!;
        Assert.Equal("ready", (string?)(await Client.WaitProcessedAsync(VideoId))["status"]);
    }

    public Task DisposeAsync()
    {
        Factory.Dispose();
        return Task.CompletedTask;
    }
}
