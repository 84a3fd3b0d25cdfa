using System.Diagnostics;
using VQToken.Engine.Compression;
using VQToken.Engine.Runtime;
using VQToken.Engine.Scheduling;
using static TorchSharp.torch;

namespace VQToken.Engine.Execution;

/// <summary>The video half of the model runner: frame batches through the vision tower and projector,
/// then pooling (full mode) or the K-means, a slice at a time.</summary>
internal sealed partial class ModelRunner
{
    /// <summary>A video's tensors: the projected features of its frames, filled batch by batch into one buffer
    /// allocated at the first batch ([T, P, D]; float32 in the VQToken modes, as the K-means reads them), then its
    /// K-means in progress.</summary>
    private sealed class Video : IDisposable
    {
        public Tensor? Features;
        public CompressionJob? Job;
        public long Frames, TokensPerFrame, Dim;
        public Activity? CompressActivity;

        public void ReleaseFrames()
        {
            Features?.Dispose();
            Features = null;
        }

        public void Dispose()
        {
            ReleaseFrames();
            Job?.Dispose();
            Job = null;
            CompressActivity?.Dispose();
            CompressActivity = null;
        }
    }

    private readonly Dictionary<ScheduledEncode, Video> _videos = [];

    public void EncodeFrames(IReadOnlyList<FrameSlice> slices)
    {
        var clock = Stopwatch.StartNew();
        using var scope = NewDisposeScope();
        var pieces = slices.Select(s => ((IEncodeInput)s.Encode).Pixels(s.From, s.Count, model.Device)).ToList();
        var pixels = pieces.Count == 1 ? pieces[0] : cat(pieces, 0);                                                  // [B, 3, S, S]
        using (EngineMetrics.Activities.StartActivity("engine.vision", ActivityKind.Internal, slices[0].Encode.Parent))
        {
            var projected = model.Project(model.EncodeVision(pixels));                                     // [B, P, D]
            long offset = 0;
            foreach (var (encode, from, count) in slices)
            {
                if (!_videos.TryGetValue(encode, out var video)) _videos[encode] = video = new Video();
                video.Features ??= empty([encode.FramesTotal, projected.shape[1], projected.shape[2]],
                    ((IEncodeInput)encode).Request.Mode == CompressionMode.Full ? projected.dtype : ScalarType.Float32, projected.device).DetachFromDisposeScope();
                video.Features.narrow(0, from, count).copy_(projected.narrow(0, offset, count));
                offset += count;
            }
        }
        long frames = pixels.shape[0];
        scope.DisposeEverything();   // the batch's activations go before the trim, so it can give them back
        HeapTrim.Release();
        double ms = clock.Elapsed.TotalMilliseconds;
        metrics.VisionBatchDuration.Record(ms);
        metrics.VisionBatchFrames.Record((int)frames);
        metrics.FramesEncoded.Add(frames);
        foreach (var (encode, _, count) in slices) encode.VisionMs += ms * count / frames;
    }

    /// <summary>Pools the frames (full mode, done at once) or starts the K-means.</summary>
    public bool StartCompression(ScheduledEncode encode)
    {
        var work = (IEncodeInput)encode;
        var video = _videos[encode];
        var clock = Stopwatch.StartNew();
        using var scope = NewDisposeScope();
        var projected = video.Features!;                                                       // [T, P, D]
        (video.Frames, video.TokensPerFrame, video.Dim) = (projected.shape[0], projected.shape[1], projected.shape[2]);
        if (work.Request.Mode == CompressionMode.Full)
        {
            using var activity = EngineMetrics.Activities.StartActivity("engine.compress", ActivityKind.Internal, encode.Parent);
            var tokens = model.FullTokens(projected).to_type(ScalarType.Float32).cpu();       // [T·g'² + 1, D]
            encode.CompressionMs = clock.Elapsed.TotalMilliseconds;
            Finish(work, video, new VideoEncoding { Mode = CompressionMode.Full, FullTokens = tokens.data<float>().ToArray(), VisualTokens = (int)tokens.shape[0] });
            return true;
        }
        if (work.Request.Settings!.Tokens == TokenPath.Attention && model.VQAttention is null)
            throw new ArgumentException("the attention token path needs VQ-Attention weights, which this checkpoint does not have");
        video.CompressActivity = EngineMetrics.Activities.StartActivity("engine.compress", ActivityKind.Internal, encode.Parent);
        video.Job = VideoCompressor.StartOwning(projected, work.Request.Settings!);   // normalised in place: one copy of the features
        video.Features = null;
        encode.CompressionMs = clock.Elapsed.TotalMilliseconds;
        return false;
    }

    public bool CompressSlice(ScheduledEncode encode)
    {
        var work = (IEncodeInput)encode;
        var video = _videos[encode];
        var clock = Stopwatch.StartNew();
        bool done = video.Job!.Advance();
        encode.CompressionMs += clock.Elapsed.TotalMilliseconds;
        if (!done) return false;
        var compressed = video.Job.Result!;
        Finish(work, video, new VideoEncoding
        {
            Mode = work.Request.Mode, Compressed = compressed,
            VisualTokens = VideoEncoding.VQTokenCount(compressed.TokenPath, (int)video.Frames, compressed.K),
        });
        return true;
    }

    private static void Finish(IEncodeInput work, Video video, VideoEncoding encoding) =>
        work.Encoding = encoding with { Dim = (int)video.Dim, Frames = (int)video.Frames, OriginalTokens = (int)(video.Frames * video.TokensPerFrame) };
}
