using TorchSharp;
using VQToken.Engine.Compression;
using VQToken.Engine.Generation;
using VQToken.Ingestion;

namespace VQToken.Engine.Runtime;

/// <summary>Encode a video's frames and compress them (or pool them, in <c>full</c> mode).</summary>
/// <param name="VideoKey">Identifies the video in logs, traces and the prefix cache.</param>
/// <param name="Frames">All frames at once; null when they come as a <see cref="Stream"/>.</param>
public sealed record EncodeRequest(string VideoKey, RgbFrames? Frames, CompressionMode Mode, CompressionSettings? Settings = null)
{
    /// <summary>The frames as they are decoded (a long video): the engine encodes them chunk by chunk as they
    /// arrive, so memory is bounded by a batch, not by the video.</summary>
    public FrameStream? Stream { get; init; }

    /// <summary>Frames the video has.</summary>
    public int FrameCount => Stream?.Count ?? Frames?.Count ?? 0;

    /// <summary>A request whose frames come from <paramref name="stream"/>.</summary>
    public static EncodeRequest Streamed(string videoKey, FrameStream stream, CompressionMode mode, CompressionSettings? settings = null) =>
        new(videoKey, null, mode, settings) { Stream = stream };
}

/// <summary>Where encoding of one video stands.</summary>
public readonly record struct EncodeProgress(string Stage, int FramesEncoded, int FramesTotal);

/// <summary>A video's visual representation, managed memory only (cacheable, serialisable):
/// the codebook + index map in VQToken modes, the pooled tokens in <c>full</c> mode.</summary>
public sealed record VideoEncoding
{
    public required CompressionMode Mode { get; init; }
    /// <summary>Codebook + index map (VQToken modes).</summary>
    public CompressedVideo? Compressed { get; init; }
    /// <summary>Pooled visual tokens incl. the newline, row-major [FullTokenRows, Dim] (full mode).</summary>
    public float[]? FullTokens { get; init; }
    public int Dim { get; init; }
    public int Frames { get; init; }
    /// <summary>Frame tokens before any pooling or compression (T·P).</summary>
    public int OriginalTokens { get; init; }
    /// <summary>Visual tokens the language model receives.</summary>
    public int VisualTokens { get; init; }
    public double VisionMs { get; init; }
    public double CompressionMs { get; init; }

    public double Ratio => OriginalTokens == 0 ? 0 : (double)VisualTokens / OriginalTokens;

    /// <summary>Visual tokens of a VQToken video: K + 1 on the codebook path, max(T, K) + 1 with VQ-Attention.</summary>
    public static int VQTokenCount(TokenPath path, int frames, int k) => (path == TokenPath.Codebook ? k : Math.Max(frames, k)) + 1;
}

/// <summary>Answer a prompt over a video's visual tokens.</summary>
/// <param name="PromptIds">Chat-template ids with exactly one image position (-200).</param>
/// <param name="OnToken">Called on the engine thread for every generated token: keep it quick (e.g. a channel write).</param>
/// <param name="Evidence">Also collect where the answer looked (<see cref="AskResult.Evidence"/>); only such asks pay for it.</param>
/// <param name="Finish">Lets the caller end the answer as finished (a stop string it found), unlike cancellation.</param>
public sealed record AskRequest(string VideoKey, VideoEncoding Encoding, IReadOnlyList<int> PromptIds, SamplingOptions Sampling,
    bool UsePrefixCache = true, Action<long>? OnToken = null, bool Evidence = false, FinishSignal? Finish = null);

/// <summary>Ends an ask early as a finished answer (reason Stop, with its result and evidence) where cancelling it
/// would leave no result: a stop string found in the streamed text. Raised from <see cref="AskRequest.OnToken"/>, the
/// answer ends with the token just passed; raised anywhere else, with the tokens produced by the engine's next step.</summary>
public sealed class FinishSignal
{
    private volatile bool _raised;

    public bool IsRaised => _raised;

    public void Raise() => _raised = true;
}

/// <param name="Evidence">With <see cref="AskRequest.Evidence"/>: the visual attention mapped onto frames and cells.</param>
/// <param name="VisualAttention">With <see cref="AskRequest.Evidence"/>: the attention on the visual rows as measured.</param>
public sealed record AskResult(
    IReadOnlyList<long> Tokens, FinishReason FinishReason, int PromptTokens, int VisualTokens, bool PrefixCacheHit,
    double QueueMs, double PrefillMs, double DecodeMs, double TotalMs, double TimeToFirstTokenMs,
    Output.AnswerEvidence? Evidence = null, Output.VisualAttention? VisualAttention = null);

/// <summary>Scores how strongly the model answers yes: one prefill over the prompt (the prefix cache serving the
/// system prompt and visual tokens), no decoding. See <see cref="Text.YesNoPrompt"/> for the fixed template.</summary>
/// <param name="PromptIds">Chat-template ids with exactly one image position (-200), ending where the answer starts.</param>
/// <param name="YesId">The answer token whose log-probability counts for yes; <paramref name="NoId"/> for no.</param>
/// <param name="Evidence">Also measure where the scoring position looked (<see cref="ScoreResult.Evidence"/>); only such requests pay for it.</param>
public sealed record ScoreRequest(string VideoKey, VideoEncoding Encoding, IReadOnlyList<int> PromptIds, int YesId, int NoId, bool UsePrefixCache = true,
    bool Evidence = false);

/// <param name="Score">log p(yes) − log p(no) at the first answer position (log-softmax over the whole vocabulary).</param>
/// <param name="Evidence">With <see cref="ScoreRequest.Evidence"/>: the attention of the last prompt position (whose logits give
/// the score) on the visual rows, mapped onto frames and cells as an ask's.</param>
/// <param name="VisualAttention">With <see cref="ScoreRequest.Evidence"/>: that attention as measured (one token's worth).</param>
public sealed record ScoreResult(double Score, double LogProbYes, double LogProbNo, int PromptTokens, int VisualTokens, bool PrefixCacheHit,
    double QueueMs, double PrefillMs, double TotalMs, Output.AnswerEvidence? Evidence = null, Output.VisualAttention? VisualAttention = null);

/// <summary>The engine's queue is full: retry later (the API maps it to 429 with Retry-After).</summary>
public sealed class EngineOverloadedException(int queued, TimeSpan retryAfter)
    : Exception($"the engine is overloaded ({queued} requests queued); retry after {retryAfter.TotalSeconds:F0} s")
{
    public TimeSpan RetryAfter { get; } = retryAfter;
}

/// <summary>The engine is not serving (model failed to load, or shutting down).</summary>
public sealed class EngineUnavailableException(string message, Exception? inner = null) : Exception(message, inner);
