using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using VQToken.Api.Tests.Infrastructure;
using VQToken.Api.Tests.OpenAi;
using VQToken.Engine.Checkpoints;
using VQToken.Engine.Text;
using VQToken.Testing;

namespace VQToken.Api.Tests.Videos;

/// <summary>The tiny random model with its stop tokens' lm_head rows zeroed: their logit is always 0 while the
/// best of the other 1,022 is far above it, so greedy decoding never stops by itself and every answer runs
/// to maxNewTokens — a real engine that reliably outlives a 1 s deadline after its first token.</summary>
public sealed class EndlessAnswerFixture : IAsyncLifetime
{
    public const int Endless = 20_000;
    private readonly string _model = Path.Combine(Path.GetTempPath(), "vqtoken-endless-model-" + Guid.NewGuid().ToString("N")[..8]);

    public ServiceFactory Factory { get; private set; } = null!;
    public HttpClient Client { get; private set; } = null!;
    public string VideoId { get; private set; } = "";

    public async Task InitializeAsync()
    {
        RandomCheckpoint.Write(_model, new RandomCheckpoint.Options(CheckpointSize.Tiny, Seed: 3));
        ZeroRows(Path.Combine(_model, "model.safetensors"), "lm_head.weight", QwenTokenizer.Load(_model).StopTokenIds);
        Factory = new ServiceFactory(new Dictionary<string, string?>
        {
            ["Model:Path"] = _model, ["Ask:DeadlineSeconds"] = "1", ["Ask:MaxNewTokens"] = Endless.ToString(CultureInfo.InvariantCulture),
        });
        Client = await Factory.ReadyClientAsync();
        var (_, uploaded, _) = await Client.UploadAsync(TestVideos.Mp4(42), new Dictionary<string, string> { ["frames"] = "2" });
        VideoId = (string)uploaded["id"]!;
        Assert.Equal("ready", (string?)(await Client.WaitProcessedAsync(VideoId))["status"]);
    }

    private static void ZeroRows(string path, string tensor, IEnumerable<int> rows)
    {
        SafeTensorInfo info;
        using (var file = new SafeTensorsFile(path)) info = file.Tensors[tensor];
        using var stream = new FileStream(path, FileMode.Open, FileAccess.ReadWrite);
        var length = new byte[8];
        stream.ReadExactly(length);
        long dataStart = 8 + BitConverter.ToInt64(length);
        long rowBytes = info.ByteLength / info.Shape[0];
        foreach (var row in rows)
        {
            stream.Position = dataStart + info.Begin + row * rowBytes;
            stream.Write(new byte[rowBytes]);
        }
    }

    public Task DisposeAsync()
    {
        Client.Dispose();
        Factory.Dispose();
        try { Directory.Delete(_model, true); } catch (IOException) { }
        return Task.CompletedTask;
    }
}

/// <summary>A streamed answer that runs into Ask:DeadlineSeconds after it has started (status 200 already sent)
/// ends with a final error event carrying the 504 timeout problem, not with a stream that just stops.</summary>
public class StreamDeadlineTests(EndlessAnswerFixture service) : IClassFixture<EndlessAnswerFixture>
{
    [Fact]
    public async Task Streamed_ask_that_hits_its_deadline_ends_with_an_error_event()
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, $"/videos/{service.VideoId}/ask")
        {
            Content = JsonContent.Create(new { question = "Describe everything, at length.", maxNewTokens = EndlessAnswerFixture.Endless, stream = true }),
        };

        using var response = await service.Client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        var events = await ServerSentEventReader.ReadAllAsync(await response.Content.ReadAsStreamAsync());

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Contains(events, e => e.Event == "token");
        Assert.DoesNotContain(events, e => e.Event == "done");
        Assert.Equal("error", events[^1].Event);
        var problem = JsonNode.Parse(events[^1].Data)!.AsObject();
        ApiClient.AssertProblem(HttpStatusCode.GatewayTimeout, "urn:vqtoken:problem:timeout", (HttpStatusCode)(int)problem["status"]!, problem);
    }

    [Fact]
    public async Task Streamed_chat_completion_that_hits_its_deadline_ends_with_an_openai_error_chunk()
    {
        var body = ChatCompletionsClient.Ask(new JsonObject { ["type"] = "video", ["video_id"] = service.VideoId }, "Describe everything, at length.",
            maxTokens: EndlessAnswerFixture.Endless);
        body["stream"] = true;

        var (raw, events, response) = await service.Client.StreamAsync(body);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.True(events.Count >= 3, raw);   // the role chunk, content, the error
        Assert.DoesNotContain(events, e => e.Data == "[DONE]");
        var error = JsonNode.Parse(events[^1].Data)!["error"]?.AsObject();
        Assert.True(error is not null, "the last event is not an error: " + events[^1].Data);
        Assert.Equal("server_error", (string?)error["type"]);
        Assert.Equal("timeout", (string?)error["code"]);
        Assert.Contains("took too long", (string?)error["message"]);
    }
}
