using System.Net;
using System.Text.Json;
using VQToken.Api.Tests.Infrastructure;
using VQToken.Api.Tests.Videos;
using VQToken.Cli;
using VQToken.Cli.Eval;
using VQToken.Engine.Compression;

namespace VQToken.Api.Tests.Ask;

/// <summary>`eval` measures the path the service answers with: for the same video, compression settings,
/// question and stop strings, eval's recorded answer and the HTTP ask's answer are the same text.</summary>
public sealed class EvalAgreementTests
{
    private const int Frames = 2, K = 4, MaxNewTokens = 12;
    private static readonly string[] Options = ["a red ball", "a blue square", "nothing at all"];
    private const string Question = "What moves across the screen?";

    [Fact]
    public async Task Eval_answer_equals_the_http_ask_answer_with_and_without_a_stop_string()
    {
        using var factory = new ServiceFactory();
        var client = await factory.ReadyClientAsync();
        var video = TestVideos.Mp4(31);
        var (status, body, _) = await client.UploadAsync(video, new Dictionary<string, string>
        {
            ["frames"] = Frames.ToString(), ["compression"] = "vqtoken-fixed", ["k"] = K.ToString(),
        });
        Assert.Equal(HttpStatusCode.Accepted, status);
        string id = (string)body["id"]!;
        Assert.Equal("ready", (string?)(await client.WaitProcessedAsync(id))["status"]);
        string prompt = MultipleChoicePrompt.Build(Question, Options);

        var (_, free) = await client.AskAsync(id, new { question = prompt, maxNewTokens = MaxNewTokens });
        string whole = (string)free["answer"]!;
        Assert.True(whole.Length >= 2, $"the tiny model's answer is too short to cut: '{whole}'");
        // A stop string taken from inside the answer: both paths must cut at its first occurrence.
        string stop = whole.Substring(whole.Length / 2, 1);
        var (_, cut) = await client.AskAsync(id, new { question = prompt, maxNewTokens = MaxNewTokens, stop = new[] { stop } });
        Assert.Equal("stop", (string?)cut["finishReason"]);
        Assert.Equal(whole[..whole.IndexOf(stop, StringComparison.Ordinal)], (string)cut["answer"]!);

        Assert.Equal(whole, await EvalAnswerAsync(video, []));
        Assert.Equal((string)cut["answer"]!, await EvalAnswerAsync(video, [stop]));
    }

    private static async Task<string> EvalAnswerAsync(string video, IReadOnlyList<string> stop)
    {
        var dir = Directory.CreateTempSubdirectory("vqtoken-eval-agreement-").FullName;
        try
        {
            var dataset = Path.Combine(dir, "data.jsonl");
            await File.WriteAllTextAsync(dataset, JsonSerializer.Serialize(new { video, question = Question, options = Options, answer = "A" }) + "\n");
            var settings = new EvalSettings
            {
                Dataset = dataset, Checkpoint = ServiceFactory.ModelDirectory, OutDir = dir, Modes = [CompressionMode.VQTokenFixed],
                Frames = Frames, K = K, MaxNewTokens = MaxNewTokens, Stop = stop, Device = "cpu", Threads = 2,
            };
            await CliProgress.RunAsync(progress => new EvalRunner(settings, progress).RunAsync(), console: null);
            var record = Assert.Single(new EvalResultsLog(Path.Combine(dir, "results.jsonl")).Read());
            return record.Output;
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}
