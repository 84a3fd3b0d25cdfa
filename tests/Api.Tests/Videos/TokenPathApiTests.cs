using System.Net;
using VQToken.Api.Tests.Infrastructure;
using VQToken.Engine.Checkpoints;
using VQToken.Testing;

namespace VQToken.Api.Tests.Videos;

/// <summary>The published inference path is the default; the VQ-Attention path is a per-video choice that
/// a checkpoint without its weights refuses.</summary>
public class TokenPathApiTests(VideosApiFixture service) : IClassFixture<VideosApiFixture>
{
    private HttpClient Client => service.Client;

    [Fact]
    public async Task Upload_without_settings_runs_the_published_path()
    {
        var (status, body, _) = await Client.UploadAsync(TestVideos.Mp4(21), new Dictionary<string, string> { ["frames"] = "2" });
        Assert.Equal(HttpStatusCode.Accepted, status);
        var settings = body["settings"]!;
        Assert.Equal("vqtoken-adaptive", (string?)settings["compression"]);
        Assert.Equal(12, (int?)settings["minK"]);
        Assert.Equal(32, (int?)settings["maxK"]);
        Assert.Equal("official", (string?)settings["elbow"]);
        Assert.Equal("codebook", (string?)settings["tokens"]);
        Assert.Null(settings["k"]);

        var ready = await Client.WaitProcessedAsync((string)body["id"]!);
        var (_, answer) = await Client.AskAsync((string)body["id"]!, new { question = "What happens?", maxNewTokens = 2 });
        int k = (int)answer["compression"]!["k"]!;
        Assert.InRange(k, 12, 32);
        Assert.Equal(k + 1, (long?)ready["tokens"]!["compressed"]);          // codebook rows + image_newline
        Assert.Equal(k + 1, (int?)answer["usage"]!["visualTokens"]);
        Assert.Equal("codebook", (string?)answer["compression"]!["tokens"]);
        Assert.Equal("official", (string?)answer["compression"]!["elbow"]);
    }

    [Fact]
    public async Task Attention_path_reads_max_of_frames_and_K_rows_on_a_checkpoint_with_VQ_Attention()
    {
        var fields = new Dictionary<string, string> { ["frames"] = "6", ["k"] = "3", ["tokens"] = "attention" };
        var (status, body, _) = await Client.UploadAsync(TestVideos.Mp4(22), fields);
        Assert.Equal(HttpStatusCode.Accepted, status);
        Assert.Equal("vqtoken-fixed", (string?)body["settings"]!["compression"]);
        Assert.Equal("attention", (string?)body["settings"]!["tokens"]);
        Assert.Null(body["settings"]!["elbow"]);

        var ready = await Client.WaitProcessedAsync((string)body["id"]!);
        Assert.Equal(Math.Max(6, 3) + 1, (long?)ready["tokens"]!["compressed"]);
        var (_, answer) = await Client.AskAsync((string)body["id"]!, new { question = "What happens?", maxNewTokens = 2 });
        Assert.Equal("attention", (string?)answer["compression"]!["tokens"]);

        // The same bytes on the codebook path are another video.
        var (again, other, _) = await Client.UploadAsync(TestVideos.Mp4(22), new Dictionary<string, string> { ["frames"] = "6", ["k"] = "3" });
        Assert.Equal(HttpStatusCode.Accepted, again);
        Assert.NotEqual((string?)body["id"], (string?)other["id"]);
        Assert.Equal(3 + 1, (long?)(await Client.WaitProcessedAsync((string)other["id"]!))["tokens"]!["compressed"]);
    }

    [Theory]
    [InlineData("tokens", "sideways", "tokens")]
    [InlineData("elbow", "steepest", "elbow")]
    public async Task Unknown_token_path_or_elbow_is_refused_naming_the_field(string field, string value, string errorField)
    {
        var (status, body, _) = await Client.UploadAsync(TestVideos.Mp4(23), new Dictionary<string, string> { ["frames"] = "2", [field] = value });
        ApiClient.AssertProblem(HttpStatusCode.BadRequest, "urn:vqtoken:problem:validation", status, body);
        Assert.NotNull(body["errors"]![errorField]);
    }

    [Fact]
    public async Task Elbow_on_a_fixed_codebook_is_refused()
    {
        var (status, body, _) = await Client.UploadAsync(TestVideos.Mp4(23), new Dictionary<string, string> { ["k"] = "8", ["elbow"] = "official" });
        ApiClient.AssertProblem(HttpStatusCode.BadRequest, "urn:vqtoken:problem:validation", status, body);
        Assert.NotNull(body["errors"]!["elbow"]);
    }
}

/// <summary>A checkpoint in the plain LLaVA-OneVision layout (no model.cross_attention.* weights).</summary>
public sealed class NoVQAttentionFixture : IAsyncLifetime
{
    private readonly string _model = Path.Combine(Path.GetTempPath(), "vqtoken-api-tests-no-vqattn-" + Guid.NewGuid().ToString("N")[..8]);
    public ServiceFactory Factory { get; private set; } = null!;
    public HttpClient Client { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        RandomCheckpoint.Write(_model, new RandomCheckpoint.Options(CheckpointSize.Tiny, Seed: 4, VQAttention: false));
        Factory = new ServiceFactory(new Dictionary<string, string?> { ["Model:Path"] = _model });
        Client = await Factory.ReadyClientAsync();
    }

    public Task DisposeAsync()
    {
        Factory.Dispose();
        Directory.Delete(_model, recursive: true);
        return Task.CompletedTask;
    }
}

public class NoVQAttentionApiTests(NoVQAttentionFixture service) : IClassFixture<NoVQAttentionFixture>
{
    [Fact]
    public async Task Attention_path_is_refused_with_400_when_the_checkpoint_has_no_VQ_Attention_weights()
    {
        var (status, body, _) = await service.Client.UploadAsync(TestVideos.Mp4(24), new Dictionary<string, string> { ["frames"] = "2", ["tokens"] = "attention" });

        ApiClient.AssertProblem(HttpStatusCode.BadRequest, "urn:vqtoken:problem:validation", status, body);
        Assert.Contains("VQ-Attention", body["errors"]!["tokens"]![0]!.ToString());
    }

    [Fact]
    public async Task Codebook_path_runs_on_a_checkpoint_without_VQ_Attention_weights()
    {
        var (status, body, _) = await service.Client.UploadAsync(TestVideos.Mp4(25), new Dictionary<string, string> { ["frames"] = "4", ["k"] = "2" });
        Assert.Equal(HttpStatusCode.Accepted, status);

        var ready = await service.Client.WaitProcessedAsync((string)body["id"]!);
        Assert.Equal("ready", (string?)ready["status"]);
        Assert.Equal(2 + 1, (long?)ready["tokens"]!["compressed"]);
    }
}
