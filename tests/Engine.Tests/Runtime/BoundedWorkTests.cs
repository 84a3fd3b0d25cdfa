using System.Diagnostics;
using VQToken.Engine.Compression;
using VQToken.Engine.Generation;
using VQToken.Engine.Runtime;

namespace VQToken.Engine.Tests.Runtime;

/// <summary>No request holds the engine: a compression at the service's limits (64 frames, adaptive
/// K 64..128) runs in slices between other asks' steps, long prompts are prefilled in chunks, deadlines
/// and shutdown act between slices, and a hung step shows as time without progress.</summary>
public class BoundedWorkTests(TinyCheckpointFixture tiny) : IClassFixture<TinyCheckpointFixture>
{
    private static readonly CompressionSettings WorstAllowed = CompressionSettings.Adaptive(frames: 1, minK: 64, maxK: 128);

    private SamplingOptions Greedy(int max = 12) => SamplingOptions.Greedy(max, tiny.Tokenizer.StopTokenIds.Select(i => (long)i).ToHashSet());

    private AskRequest Ask(string key, VideoEncoding encoding, string question, int max = 12, Action<long>? onToken = null) =>
        new(key, encoding, tiny.Template.BuildPrompt(question), Greedy(max), OnToken: onToken);

    /// <summary>Starts the worst allowed compression and returns once every frame is encoded, i.e. when
    /// the K-means itself is running.</summary>
    private static async Task<Task<VideoEncoding>> StartWorstCompressionAsync(InferenceEngine engine, string key, CancellationToken cancellationToken = default)
    {
        var compressing = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var progress = new Progress(p => { if (p.Stage == "encoding" && p.FramesEncoded == p.FramesTotal) compressing.TrySetResult(); });
        var encode = engine.EncodeAsync(new EncodeRequest(key, TinyCheckpointFixture.RandomFrames(64, seed: 40), CompressionMode.VQTokenAdaptive, WorstAllowed),
            progress, cancellationToken);
        await Task.WhenAny(compressing.Task, encode);
        Assert.False(encode.IsCompleted, "the compression ended before the test could ask anything");
        return encode;
    }

    [Fact]
    public async Task Ask_finishes_while_a_compression_at_the_limits_is_still_running()
    {
        await using var engine = tiny.NewEngine();
        var small = await engine.EncodeAsync(TinyCheckpointFixture.Encode("asked", TinyCheckpointFixture.RandomFrames(2, seed: 41)));
        var encode = await StartWorstCompressionAsync(engine, "worst");

        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        var answer = await engine.AskAsync(Ask("asked", small, "What happens in the video?"), deadline.Token);

        Assert.NotEmpty(answer.Tokens);
        Assert.False(encode.IsCompleted, "the ask waited for the whole compression");
        var encoding = await encode;
        Assert.InRange(encoding.Compressed!.K, 64, 128);
    }

    [Fact]
    public async Task One_second_deadline_ends_an_ask_within_two_seconds_during_compression()
    {
        await using var engine = tiny.NewEngine();
        var small = await engine.EncodeAsync(TinyCheckpointFixture.Encode("asked", TinyCheckpointFixture.RandomFrames(2, seed: 42)));
        var encode = await StartWorstCompressionAsync(engine, "worst");

        var clock = Stopwatch.StartNew();
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(1));
        var endless = new AskRequest("asked", small, tiny.Template.BuildPrompt("Tell me everything."), new SamplingOptions { MaxNewTokens = 100_000 });
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => engine.AskAsync(endless, deadline.Token));
        Assert.InRange(clock.Elapsed, TimeSpan.FromSeconds(0.95), TimeSpan.FromSeconds(2));   // the timer may fire a few ms early

        // The engine dropped it and keeps serving while the compression goes on.
        var next = await engine.AskAsync(Ask("asked", small, "Short?", max: 4));
        Assert.NotEmpty(next.Tokens);
        Assert.InRange((await encode).Compressed!.K, 64, 128);
    }

    [Fact]
    public async Task Long_question_is_prefilled_in_chunks_and_a_short_ask_sent_after_it_starts_answering_first()
    {
        await using var engine = tiny.NewEngine(o => o.PrefillChunkTokens = 64);
        var encoding = await engine.EncodeAsync(TinyCheckpointFixture.Encode("chunks", TinyCheckpointFixture.RandomFrames(2, seed: 43)));
        string longQuestion = string.Join(' ', Enumerable.Range(0, 400).Select(i => $"detail{i % 37}"));
        int longTokens = tiny.Template.BuildPrompt(longQuestion).Length;
        Assert.True(longTokens > 20 * 64, $"the long question is only {longTokens} tokens");

        var firstTokens = new List<string>();
        void First(string who) { lock (firstTokens) if (!firstTokens.Contains(who)) firstTokens.Add(who); }
        long stepsBefore = engine.Steps;
        var slow = engine.AskAsync(Ask("chunks", encoding, longQuestion, max: 2, onToken: _ => First("long")));
        var quick = engine.AskAsync(Ask("chunks", encoding, "Short?", max: 2, onToken: _ => First("short")));
        var results = await Task.WhenAll(slow, quick);

        Assert.Equal(["short", "long"], firstTokens);
        Assert.True(engine.Steps - stepsBefore >= longTokens / 64, $"{longTokens} prompt tokens took only {engine.Steps - stepsBefore} steps");
        Assert.Equal(longTokens - 1 + encoding.VisualTokens, results[0].PromptTokens);
    }

    [Fact]
    public async Task Chunked_prefill_of_a_prompt_gives_the_same_answer_as_one_piece()
    {
        var encodingFrames = TinyCheckpointFixture.RandomFrames(2, seed: 44);
        string question = string.Join(' ', Enumerable.Range(0, 60).Select(i => $"word{i % 11}"));
        async Task<IReadOnlyList<long>> AnswerWith(int chunk)
        {
            await using var engine = tiny.NewEngine(o => o.PrefillChunkTokens = chunk);
            var encoding = await engine.EncodeAsync(TinyCheckpointFixture.Encode("same", encodingFrames));
            return (await engine.AskAsync(Ask("same", encoding, question, max: 8))).Tokens;
        }
        Assert.True(tiny.Template.BuildPrompt(question).Length > 2 * 16);
        Assert.Equal(await AnswerWith(4096), await AnswerWith(16));
    }

    [Fact]
    public async Task Stopping_mid_compression_ends_at_the_next_slice_and_fails_the_video_as_unavailable()
    {
        var engine = tiny.NewEngine();
        await engine.Ready;
        var encode = await StartWorstCompressionAsync(engine, "stop");
        var clock = Stopwatch.StartNew();
        using (var grace = new CancellationTokenSource(TimeSpan.FromMilliseconds(200)))
            await engine.StopAsync(drain: true, grace.Token);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(10), $"stopping took {clock.Elapsed}");
        await Assert.ThrowsAsync<EngineUnavailableException>(() => encode);
        await engine.DisposeAsync();
    }

    [Fact]
    public async Task Stopping_does_not_hang_on_a_step_that_never_returns()
    {
        var engine = tiny.NewEngine();
        var encoding = await engine.EncodeAsync(TinyCheckpointFixture.Encode("hung-stop", TinyCheckpointFixture.RandomFrames(1, seed: 49)));
        using var gate = new ManualResetEventSlim();
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var hung = engine.AskAsync(new AskRequest("hung-stop", encoding, tiny.Template.BuildPrompt("Hang?"), new SamplingOptions { MaxNewTokens = 100_000 },
            OnToken: _ => { started.TrySetResult(); gate.Wait(TimeSpan.FromSeconds(60)); }));
        await started.Task;

        var clock = Stopwatch.StartNew();
        await engine.StopAsync(drain: false);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(15), $"stopping waited {clock.Elapsed} for the hung step");
        gate.Set();
        await Assert.ThrowsAsync<EngineUnavailableException>(() => hung);
        await engine.DisposeAsync();
    }

    [Fact]
    public async Task Cancelled_compression_is_dropped_and_the_next_video_compresses()
    {
        await using var engine = tiny.NewEngine();
        await engine.Ready;
        using var cancel = new CancellationTokenSource();
        var encode = await StartWorstCompressionAsync(engine, "cancelled", cancel.Token);
        cancel.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => encode);
        var next = await engine.EncodeAsync(TinyCheckpointFixture.Encode("after", TinyCheckpointFixture.RandomFrames(2, seed: 45)));
        Assert.Equal(8, next.Compressed!.K);
    }

    [Fact]
    public async Task Sliced_compression_between_decode_steps_gives_the_same_codebook_as_alone()
    {
        var frames = TinyCheckpointFixture.RandomFrames(6, seed: 46);
        var settings = CompressionSettings.Adaptive(frames: 1, minK: 4, maxK: 24);
        await using var engine = tiny.NewEngine();
        var alone = await engine.EncodeAsync(new EncodeRequest("alone", frames, CompressionMode.VQTokenAdaptive, settings));
        var asked = await engine.EncodeAsync(TinyCheckpointFixture.Encode("asked", TinyCheckpointFixture.RandomFrames(1, seed: 47)));

        var busy = Enumerable.Range(0, 4).Select(i => engine.AskAsync(new AskRequest("asked", asked, tiny.Template.BuildPrompt($"q{i}"),
            new SamplingOptions { MaxNewTokens = 200 }))).ToList();
        var interleaved = await engine.EncodeAsync(new EncodeRequest("interleaved", frames, CompressionMode.VQTokenAdaptive, settings));
        await Task.WhenAll(busy);

        Assert.Equal(alone.Compressed!.K, interleaved.Compressed!.K);
        Assert.Equal(alone.Compressed.CodebookValues.ToArray(), interleaved.Compressed.CodebookValues.ToArray());
        Assert.Equal(alone.Compressed.IndexMapValues.ToArray(), interleaved.Compressed.IndexMapValues.ToArray());
    }

    [Fact]
    public async Task A_hung_step_shows_as_time_without_progress_while_work_waits()
    {
        await using var engine = tiny.NewEngine();
        var encoding = await engine.EncodeAsync(TinyCheckpointFixture.Encode("hang", TinyCheckpointFixture.RandomFrames(1, seed: 48)));

        using var gate = new ManualResetEventSlim();
        var hung = engine.AskAsync(Ask("hang", encoding, "Hang?", max: 4, onToken: _ => gate.Wait(TimeSpan.FromSeconds(30))));
        var waiting = engine.AskAsync(Ask("hang", encoding, "Waiting?", max: 4));
        var clock = Stopwatch.StartNew();
        while (engine.TimeWithoutProgress < TimeSpan.FromMilliseconds(500))
        {
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(20), "the hung step never showed");
            await Task.Delay(50);
        }
        gate.Set();
        await Task.WhenAll(hung, waiting);
        clock.Restart();
        while (engine.TimeWithoutProgress != TimeSpan.Zero)
        {
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(20), "the engine still reports no progress after the step ended");
            await Task.Delay(20);
        }
    }

    private sealed class Progress(Action<EncodeProgress> report) : IProgress<EncodeProgress>
    {
        public void Report(EncodeProgress value) => report(value);
    }
}
