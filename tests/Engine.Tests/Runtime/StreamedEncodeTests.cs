using System.Threading.Channels;
using VQToken.Engine.Compression;
using VQToken.Engine.Runtime;
using VQToken.Ingestion;

namespace VQToken.Engine.Tests.Runtime;

/// <summary>Frames that arrive as a stream (a long video decoded while it is encoded) give the encoding of the same
/// frames given at once; the engine sleeps while it waits for them, serves other work meanwhile, and lets go of a
/// stream that fails or is cancelled.</summary>
public class StreamedEncodeTests(TinyCheckpointFixture tiny) : IClassFixture<TinyCheckpointFixture>
{
    private static RgbFrames Slice(RgbFrames frames, int from, int count)
    {
        long frameBytes = (long)frames.Size * frames.Size * 3;
        return new RgbFrames(count, frames.Size, frames.Data.AsSpan((int)(from * frameBytes), (int)(count * frameBytes)).ToArray());
    }

    /// <summary>Writes the frames in chunks of <paramref name="chunk"/> with a pause before each, then completes.</summary>
    private static async Task ProduceAsync(FrameStream stream, RgbFrames frames, int chunk, int pauseMs)
    {
        for (int from = 0; from < frames.Count; from += chunk)
        {
            await Task.Delay(pauseMs);
            await stream.Writer.WriteAsync(Slice(frames, from, Math.Min(chunk, frames.Count - from)));
        }
        stream.Writer.TryComplete();
    }

    [Theory]
    [InlineData(CompressionMode.VQTokenFixed)]
    [InlineData(CompressionMode.Full)]
    public async Task Streamed_frames_give_the_encoding_of_the_same_frames_at_once(CompressionMode mode)
    {
        await using var engine = tiny.NewEngine(o => o.MaxBatchFrames = 4);
        var frames = TinyCheckpointFixture.RandomFrames(10, seed: 11);
        var atOnce = await engine.EncodeAsync(TinyCheckpointFixture.Encode("at-once", frames, mode));

        var stream = new FrameStream(frames.Count, frames.Size, bufferedChunks: 1);
        var request = TinyCheckpointFixture.Encode("streamed", frames, mode) with { Frames = null, Stream = stream };
        var producing = ProduceAsync(stream, frames, chunk: 3, pauseMs: 30);
        var progress = new List<EncodeProgress>();
        var streamed = await engine.EncodeAsync(request, new VQToken.Engine.Tests.Output.SyncProgress<EncodeProgress>(progress));
        await producing;

        Assert.Equal(atOnce.OriginalTokens, streamed.OriginalTokens);
        Assert.Equal(atOnce.VisualTokens, streamed.VisualTokens);
        if (mode == CompressionMode.Full)
        {
            Assert.Equal(atOnce.FullTokens, streamed.FullTokens);
        }
        else
        {
            Assert.Equal(atOnce.Compressed!.IndexMapValues.ToArray(), streamed.Compressed!.IndexMapValues.ToArray());
            Assert.Equal(atOnce.Compressed.CodebookValues.ToArray(), streamed.Compressed.CodebookValues.ToArray());
        }
        Assert.Equal(10, progress[^1].FramesEncoded);
        Assert.True(progress.Count(p => p.Stage == "encoding") >= 3, "frames were not encoded as they arrived");
    }

    [Fact]
    public async Task While_a_stream_waits_for_frames_the_engine_sleeps_and_answers_other_work()
    {
        await using var engine = tiny.NewEngine(o => o.MaxBatchFrames = 4);
        var frames = TinyCheckpointFixture.RandomFrames(6, seed: 12);
        var other = await engine.EncodeAsync(TinyCheckpointFixture.Encode("other", TinyCheckpointFixture.RandomFrames(2, seed: 13)));

        var stream = new FrameStream(frames.Count, frames.Size);
        var encoding = engine.EncodeAsync(TinyCheckpointFixture.Encode("waiting", frames) with { Frames = null, Stream = stream });
        await stream.Writer.WriteAsync(Slice(frames, 0, 2));
        await Task.Delay(500);   // the two frames are encoded, then the engine waits for more
        long steps = engine.Steps;
        await Task.Delay(500);
        Assert.True(engine.Steps - steps <= 2, $"the engine stepped {engine.Steps - steps} times in 0.5 s while it only waited for frames");
        Assert.Equal(TimeSpan.Zero, engine.TimeWithoutProgress);

        var prompt = tiny.Template.BuildPrompt("What happens?");
        var answer = await engine.AskAsync(new AskRequest("other", other, prompt, VQToken.Engine.Generation.SamplingOptions.Greedy(3)))
            .WaitAsync(TimeSpan.FromSeconds(60));
        Assert.NotEmpty(answer.Tokens);
        Assert.False(encoding.IsCompleted);

        await stream.Writer.WriteAsync(Slice(frames, 2, 4));
        stream.Writer.TryComplete();
        var done = await encoding.WaitAsync(TimeSpan.FromSeconds(60));
        Assert.Equal(6, done.Frames);
    }

    [Fact]
    public async Task Stopping_with_drain_finishes_a_stream_that_waits_for_frames_without_spinning()
    {
        await using var engine = tiny.NewEngine(o => o.MaxBatchFrames = 4);
        var frames = TinyCheckpointFixture.RandomFrames(4, seed: 16);
        var stream = new FrameStream(frames.Count, frames.Size);
        var encoding = engine.EncodeAsync(TinyCheckpointFixture.Encode("draining", frames) with { Frames = null, Stream = stream });
        await stream.Writer.WriteAsync(Slice(frames, 0, 2));
        await Task.Delay(300);

        var stopping = engine.StopAsync(drain: true);
        long steps = engine.Steps;
        await Task.Delay(500);
        Assert.True(engine.Steps - steps <= 2, $"the stopping engine stepped {engine.Steps - steps} times in 0.5 s while it only waited for frames");
        Assert.False(stopping.IsCompleted);

        await stream.Writer.WriteAsync(Slice(frames, 2, 2));
        stream.Writer.TryComplete();
        Assert.Equal(4, (await encoding.WaitAsync(TimeSpan.FromSeconds(60))).Frames);
        await stopping.WaitAsync(TimeSpan.FromSeconds(60));
    }

    [Fact]
    public async Task A_stream_that_fails_or_ends_early_fails_its_encoding_with_the_reason()
    {
        await using var engine = tiny.NewEngine();
        var frames = TinyCheckpointFixture.RandomFrames(4, seed: 14);

        var failing = new FrameStream(4, frames.Size);
        var failed = engine.EncodeAsync(TinyCheckpointFixture.Encode("failing", frames) with { Frames = null, Stream = failing });
        await failing.Writer.WriteAsync(Slice(frames, 0, 1));
        failing.Writer.TryComplete(new VideoIngestException(VideoErrorKind.Undecodable, "the decoder broke"));
        var error = await Assert.ThrowsAsync<VideoIngestException>(() => failed.WaitAsync(TimeSpan.FromSeconds(60)));
        Assert.Equal(VideoErrorKind.Undecodable, error.Kind);

        var shortStream = new FrameStream(4, frames.Size);
        var cut = engine.EncodeAsync(TinyCheckpointFixture.Encode("cut", frames) with { Frames = null, Stream = shortStream });
        await shortStream.Writer.WriteAsync(Slice(frames, 0, 3));
        shortStream.Writer.TryComplete();
        var early = await Assert.ThrowsAsync<InvalidOperationException>(() => cut.WaitAsync(TimeSpan.FromSeconds(60)));
        Assert.Contains("3 of 4", early.Message);
    }

    [Fact]
    public async Task Cancelling_a_streamed_encoding_closes_the_stream_so_its_producer_stops()
    {
        await using var engine = tiny.NewEngine();
        var frames = TinyCheckpointFixture.RandomFrames(8, seed: 15);
        var stream = new FrameStream(8, frames.Size, bufferedChunks: 1);
        using var cancel = new CancellationTokenSource();
        var encoding = engine.EncodeAsync(TinyCheckpointFixture.Encode("cancelled", frames) with { Frames = null, Stream = stream }, null, cancel.Token);
        await stream.Writer.WriteAsync(Slice(frames, 0, 1));

        cancel.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => encoding);
        // The engine drops the video at its next step and completes the channel: the producer's writes fail.
        await Assert.ThrowsAnyAsync<ChannelClosedException>(async () =>
        {
            for (int i = 1; i < 8; i++) await stream.Writer.WriteAsync(Slice(frames, i, 1)).AsTask().WaitAsync(TimeSpan.FromSeconds(30));
        });
    }
}
