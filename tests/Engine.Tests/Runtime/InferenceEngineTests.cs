using VQToken.Engine.Compression;
using VQToken.Engine.Generation;
using VQToken.Engine.Runtime;

namespace VQToken.Engine.Tests.Runtime;

public class InferenceEngineTests(TinyCheckpointFixture tiny) : IClassFixture<TinyCheckpointFixture>
{
    private SamplingOptions Greedy(int max = 12) => SamplingOptions.Greedy(max, tiny.Tokenizer.StopTokenIds.Select(i => (long)i).ToHashSet());

    private AskRequest Ask(string key, VideoEncoding encoding, string question, bool prefix = true, Action<long>? onToken = null, int max = 12) =>
        new(key, encoding, tiny.Template.BuildPrompt(question), Greedy(max), prefix, onToken);

    [Fact]
    public async Task Encoding_reports_token_counts_for_each_mode()
    {
        await using var engine = tiny.NewEngine();
        var frames = TinyCheckpointFixture.RandomFrames(3, seed: 1);
        var progress = new List<EncodeProgress>();
        var fixedK = await engine.EncodeAsync(TinyCheckpointFixture.Encode("v1", frames), new SyncProgress(progress));
        Assert.Equal(3 * 729, fixedK.OriginalTokens);
        Assert.Equal(8, fixedK.Compressed!.K);
        Assert.Equal(Math.Max(3, 8) + 1, fixedK.VisualTokens);
        Assert.Equal([3, 27, 27], new[] { fixedK.Compressed.Frames, fixedK.Compressed.Grid, fixedK.Compressed.Grid });
        Assert.Equal("compressed", progress[^1].Stage);
        Assert.Equal(3, progress[^1].FramesEncoded);

        var full = await engine.EncodeAsync(TinyCheckpointFixture.Encode("v1", frames, CompressionMode.Full));
        Assert.Equal(3 * 14 * 14 + 1, full.VisualTokens);
        Assert.Equal(full.VisualTokens * full.Dim, full.FullTokens!.Length);

        var adaptive = await engine.EncodeAsync(TinyCheckpointFixture.Encode("v1", frames, CompressionMode.VQTokenAdaptive));
        Assert.InRange(adaptive.Compressed!.K, 2, 6);
    }

    [Fact]
    public async Task Sixteen_concurrent_asks_equal_sequential_asks_and_share_decode_steps()
    {
        await using var engine = tiny.NewEngine(o => o.MaxPrefillsPerStep = 16);
        var encoding = await engine.EncodeAsync(TinyCheckpointFixture.Encode("v2", TinyCheckpointFixture.RandomFrames(2, seed: 2)));
        var questions = Enumerable.Range(0, 16).Select(i => $"question number {i} about the video?").ToList();

        var sequential = new List<IReadOnlyList<long>>();
        foreach (var q in questions) sequential.Add((await engine.AskAsync(Ask("v2", encoding, q, prefix: false))).Tokens);
        Assert.Equal(1, engine.MaxDecodeBatch);

        var concurrent = await Task.WhenAll(questions.Select(q => engine.AskAsync(Ask("v2", encoding, q, prefix: false))));
        for (int i = 0; i < questions.Count; i++) Assert.Equal(sequential[i], concurrent[i].Tokens);
        Assert.True(engine.MaxDecodeBatch > 1, $"decode steps were never shared (max batch {engine.MaxDecodeBatch})");
        Assert.Contains(sequential, s => s.Count > 1);
    }

    [Fact]
    public async Task Reask_with_cached_prefix_gives_identical_tokens_and_skips_visual_prefill()
    {
        await using var engine = tiny.NewEngine();
        var encoding = await engine.EncodeAsync(TinyCheckpointFixture.Encode("v3", TinyCheckpointFixture.RandomFrames(2, seed: 3)));
        var uncached = await engine.AskAsync(Ask("v3", encoding, "What happens?", prefix: false));
        var first = await engine.AskAsync(Ask("v3", encoding, "What happens?"));
        var again = await engine.AskAsync(Ask("v3", encoding, "What happens?"));
        var other = await engine.AskAsync(Ask("v3", encoding, "Who is there?"));
        Assert.False(first.PrefixCacheHit);
        Assert.True(again.PrefixCacheHit);
        Assert.True(other.PrefixCacheHit);
        Assert.Equal(uncached.Tokens, first.Tokens);
        Assert.Equal(first.Tokens, again.Tokens);
        Assert.Equal(2, engine.PrefixCacheHits);
    }

    [Fact]
    public async Task Streams_every_token_through_the_callback_in_order()
    {
        await using var engine = tiny.NewEngine();
        var encoding = await engine.EncodeAsync(TinyCheckpointFixture.Encode("v4", TinyCheckpointFixture.RandomFrames(1, seed: 4)));
        var streamed = new List<long>();
        var result = await engine.AskAsync(Ask("v4", encoding, "Describe it.", onToken: streamed.Add, max: 6));
        Assert.Equal(result.Tokens, streamed);
        Assert.True(result.Tokens.Count is > 0 and <= 6);
        Assert.Equal(result.FinishReason == FinishReason.Length, result.Tokens.Count == 6);
    }

    [Fact]
    public async Task Full_queue_fails_fast_as_overloaded_and_the_engine_keeps_serving()
    {
        await using var engine = tiny.NewEngine(o => o.MaxQueuedRequests = 1);
        await engine.Ready;
        var frames = TinyCheckpointFixture.RandomFrames(2, seed: 5);
        var tasks = new List<Task<VideoEncoding>>();
        var overloaded = 0;
        for (int i = 0; i < 50; i++)
        {
            try { tasks.Add(engine.EncodeAsync(TinyCheckpointFixture.Encode("v5", frames))); }
            catch (EngineOverloadedException e) { overloaded++; Assert.True(e.RetryAfter > TimeSpan.Zero); }
        }
        Assert.True(overloaded > 0, "a queue of 1 never overflowed");
        Assert.NotEmpty(tasks);
        foreach (var t in tasks) Assert.Equal(9, (await t).VisualTokens);
        var after = await engine.EncodeAsync(TinyCheckpointFixture.Encode("v5", frames));
        Assert.Equal(9, after.VisualTokens);
    }

    [Fact]
    public async Task Cancelled_ask_frees_its_slot_and_others_finish()
    {
        await using var engine = tiny.NewEngine(o => o.MaxBatchSequences = 1);
        var encoding = await engine.EncodeAsync(TinyCheckpointFixture.Encode("v6", TinyCheckpointFixture.RandomFrames(1, seed: 6)));
        using var cts = new CancellationTokenSource();
        var noStop = new SamplingOptions { MaxNewTokens = 100_000 };
        int started = 0; // cancel 50 ms after the first token (CancelAfter on every token would keep pushing the timer back)
        var endless = engine.AskAsync(new AskRequest("v6", encoding, tiny.Template.BuildPrompt("long"), noStop,
            OnToken: t => { if (Interlocked.Exchange(ref started, 1) == 0) cts.CancelAfter(50); }), cts.Token);
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => endless);
        var next = await engine.AskAsync(Ask("v6", encoding, "short"));
        Assert.NotNull(next.Tokens);
    }

    [Fact]
    public async Task Stopping_without_drain_fails_pending_requests_clearly()
    {
        var engine = tiny.NewEngine();
        await engine.Ready;
        var pending = engine.EncodeAsync(TinyCheckpointFixture.Encode("v7", TinyCheckpointFixture.RandomFrames(8, seed: 7)));
        await engine.DisposeAsync();
        var error = await Record.ExceptionAsync(() => pending);
        Assert.True(error is null or EngineUnavailableException, $"unexpected {error}");
        Assert.Throws<EngineUnavailableException>(() => { _ = engine.EncodeAsync(TinyCheckpointFixture.Encode("v7", TinyCheckpointFixture.RandomFrames(1, seed: 7))); });
    }

    [Fact]
    public async Task Missing_model_fails_readiness_and_requests()
    {
        await using var engine = new InferenceEngine(Path.Combine(Path.GetTempPath(), "no-such-model-" + Guid.NewGuid()), new EngineOptions { Device = "cpu" });
        await Assert.ThrowsAsync<FileNotFoundException>(() => engine.Ready);
        Assert.Throws<EngineUnavailableException>(() => { _ = engine.EncodeAsync(TinyCheckpointFixture.Encode("x", TinyCheckpointFixture.RandomFrames(1, 1))); });
    }

    private sealed class SyncProgress(List<EncodeProgress> sink) : IProgress<EncodeProgress>
    {
        public void Report(EncodeProgress value) { lock (sink) sink.Add(value); }
    }
}
