using System.Diagnostics;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.Options;
using VQToken.Api.Cache;
using VQToken.Api.Inference;
using VQToken.Api.Processing;
using VQToken.Api.ServiceDefaults;
using VQToken.Api.Videos;
using VQToken.Engine.Caching;
using VQToken.Engine.Generation;
using VQToken.Engine.Output;
using VQToken.Engine.Runtime;
using VQToken.Engine.Text;

namespace VQToken.Api.Ask;

/// <summary>A video ready to be asked about: its record and visual representation.</summary>
public sealed record PreparedVideo(VideoRecord Record, VideoEncoding Encoding, bool CodebookFromCache);

/// <summary>Validated generation parameters; <see cref="Evidence"/>: also measure where the answer looked.</summary>
public sealed record AskParameters(int MaxNewTokens, double Temperature, double TopP, int TopK, long? Seed, IReadOnlyList<string> Stop)
{
    public bool Evidence { get; init; }
}

/// <summary>What one answer came to; <see cref="Evidence"/> only for evidence asks.</summary>
public sealed record Answer(string Text, string FinishReason, int PromptTokens, int CompletionTokens, AskResult Engine, double TotalMs, AskEvidence? Evidence = null);

/// <summary>Answers questions about videos: waits for a video to be ready, gets its compressed
/// representation (memory → cache entry; a corrupt or missing entry is recomputed), builds the
/// chat prompt, runs the engine and turns tokens into text (streamed, with stop strings).</summary>
public sealed class VideoAnswerer(IVideoStore videos, CachedVideoResolver resolver, ModelHost model, IOptions<AskOptions> options, TimeProvider clock,
    AnswerEvidenceStore evidence)
{
    private readonly LruCache<VideoEncoding> _memory = new(options.Value.EncodingCacheEntries);

    public AskOptions Options => options.Value;

    /// <summary>Validates sampling fields; null parameters and the errors by field when invalid.</summary>
    public (AskParameters? Parameters, Dictionary<string, string[]> Errors) Validate(int? maxNewTokens, double? temperature, double? topP, int? topK, long? seed, IReadOnlyList<string>? stop)
    {
        var o = options.Value;
        var errors = new Dictionary<string, string[]>();
        int max = maxNewTokens ?? Math.Min(o.DefaultMaxNewTokens, o.MaxNewTokens);
        if (max < 1 || max > o.MaxNewTokens) errors["maxNewTokens"] = [$"maxNewTokens must be between 1 and {o.MaxNewTokens}"];
        double t = temperature ?? 0;
        if (!double.IsFinite(t) || t < 0 || t > 2) errors["temperature"] = ["temperature must be between 0 and 2"];
        double p = topP ?? 1;
        if (!double.IsFinite(p) || p <= 0 || p > 1) errors["topP"] = ["topP must be in (0, 1]"];
        int k = topK ?? 0;
        if (k < 0 || k > 100_000) errors["topK"] = ["topK must be between 0 and 100000"];
        var stops = stop ?? [];
        if (stops.Count > 4 || stops.Any(s => string.IsNullOrEmpty(s) || s.Length > 64)) errors["stop"] = ["stop takes up to 4 non-empty strings of at most 64 characters"];
        return (errors.Count == 0 ? new AskParameters(max, t, p, k, seed, stops) : null, errors);
    }

    /// <summary>Gets the video ready to ask: waits while it is queued/processing (up to
    /// Ask:WaitForVideoSeconds), fails with 404/409/503 problems otherwise.</summary>
    public async Task<(PreparedVideo? Video, ProblemDetails? Problem)> PrepareAsync(string owner, string id, CancellationToken cancellationToken)
    {
        if (!model.IsReady) return (null, Problems.Unavailable($"the model is {model.Status}"));
        var waitUntil = clock.GetUtcNow().AddSeconds(options.Value.WaitForVideoSeconds);
        bool recomputed = false;
        var delay = TimeSpan.FromMilliseconds(100);
        while (true)
        {
            var record = await videos.GetOwnedAsync(owner, id, cancellationToken);
            if (record is null) return (null, Problems.VideoNotFound(id));
            if (record.Status == VideoStatus.Failed)
                return (null, Problems.Create(StatusCodes.Status409Conflict, Problems.VideoFailed, "The video failed to process", record.Reason));
            if (record.Status == VideoStatus.Ready)
            {
                var (encoding, outcome, reason) = await EncodingOfReadyAsync(record, cancellationToken);
                if (encoding is not null) return (new PreparedVideo(record, encoding, !recomputed), null);
                if (outcome == CachedVideoOutcome.Failed)
                    return (null, Problems.Create(StatusCodes.Status409Conflict, Problems.VideoFailed, "The video failed to process", reason));
                recomputed = true;   // re-enqueued: wait for it like any processing video
            }
            if (clock.GetUtcNow() >= waitUntil)
                return (null, Problems.Create(StatusCodes.Status409Conflict, Problems.NotReady, "The video is not ready yet",
                    $"video '{id}' is {record.Status.ToString().ToLowerInvariant()}; follow GET /videos/{id}/events and ask again when it is ready"));
            await Task.Delay(delay, clock, cancellationToken);
            delay = TimeSpan.FromMilliseconds(Math.Min(1000, delay.TotalMilliseconds * 1.5));
        }
    }

    /// <summary>A ready video's encoding for the loaded model: from memory, else its cache entry. Without one the
    /// resolver has re-enqueued the video (Recomputing) or failed it (Failed, with the reason), and it is null.</summary>
    public async Task<(VideoEncoding? Encoding, CachedVideoOutcome Outcome, string? Reason)> EncodingOfReadyAsync(VideoRecord record, CancellationToken cancellationToken)
    {
        string key = $"{record.Id}|{model.Fingerprint}|{record.UpdatedAt.UtcTicks}";
        if (_memory.TryGet(key, out var remembered)) return (remembered, CachedVideoOutcome.Ready, null);
        var cached = await resolver.ResolveAsync(record, model.Fingerprint, cancellationToken);
        if (cached.Outcome != CachedVideoOutcome.Ready) return (null, cached.Outcome, cached.Reason);
        _memory.TryAdd(key, cached.Entry!.Encoding);
        return (cached.Entry.Encoding, CachedVideoOutcome.Ready, null);
    }

    /// <summary>Why the conversation is too long to ask (Ask:MaxQuestionTokens, counted with the model's
    /// tokenizer), or null; null as well before the model is loaded (the ask then fails as unavailable).</summary>
    public string? PromptTooLong(IReadOnlyList<ChatMessage> messages)
    {
        if (model.Template is not { } template) return null;
        int tokens = template.BuildPrompt(messages).Length - 1;
        int max = options.Value.MaxQuestionTokens;
        return tokens > max ? $"the prompt is {tokens} tokens; at most {max} are accepted (Ask:MaxQuestionTokens)" : null;
    }

    public ChatTemplate Template => model.Template ?? throw new EngineUnavailableException($"the model is {model.Status}");
    public QwenTokenizer Tokenizer => model.Tokenizer ?? throw new EngineUnavailableException($"the model is {model.Status}");

    /// <summary>Generates the answer to <paramref name="messages"/> over the video through the engine's one
    /// answer path (<see cref="AnswerGeneration"/>). Text pieces go to <paramref name="onText"/> as they are
    /// final (stop strings are held back until decided).</summary>
    public async Task<Answer> AnswerAsync(PreparedVideo video, IReadOnlyList<ChatMessage> messages, AskParameters parameters,
        Func<string, Task>? onText, CancellationToken cancellationToken)
    {
        var clock = Stopwatch.StartNew();
        var prompt = Template.BuildPrompt(messages);
        var sampling = new SamplingOptions
        {
            MaxNewTokens = parameters.MaxNewTokens, Temperature = parameters.Temperature, TopP = parameters.TopP, TopK = parameters.TopK, Seed = parameters.Seed,
        };
        var answer = await AnswerGeneration.GenerateAsync(model.Engine, Tokenizer,
            new AskRequest(video.Record.Id, video.Encoding, prompt, sampling, Evidence: parameters.Evidence),
            parameters.Stop, onText, TimeSpan.FromSeconds(options.Value.DeadlineSeconds), cancellationToken);
        return new Answer(answer.Text, answer.FinishReason == FinishReason.Length ? "length" : "stop", answer.Engine.PromptTokens, answer.CompletionTokens,
            answer.Engine, clock.Elapsed.TotalMilliseconds, answer.Engine.Evidence is { } measured ? Evidence(video, measured, answer.Engine.VisualAttention!.TokenShares.Count) : null);
    }

    /// <summary>The engine's evidence with the frames' times, kept for its heat picture.</summary>
    private AskEvidence Evidence(PreparedVideo video, AnswerEvidence measured, int answerTokens)
    {
        var record = video.Record;
        var times = FrameTimes(record, video.Encoding);
        var id = evidence.Add(record.Owner, record.Id, measured, times);
        return new AskEvidence(measured.VisualShare, answerTokens, Frames(measured, times),
            measured.Tokens.Select(c => new EvidenceCluster(c.Row, c.Mass, c.Cells)).ToList(),
            id is null ? null : AnswerEvidenceStore.PicturePath(record.Id, id));
    }

    /// <summary>The record's frame times when they belong to this encoding's frames; null for videos processed before times were kept.</summary>
    public static IReadOnlyList<double>? FrameTimes(VideoRecord record, VideoEncoding encoding) =>
        record.FrameTimes is { } t && t.Count == encoding.Frames ? t : null;

    /// <summary>Evidence frames as the API shows them (top first), with their times when known.</summary>
    public static List<EvidenceFrame> Frames(AnswerEvidence measured, IReadOnlyList<double>? times, int? top = null) =>
        measured.Frames.Take(top ?? measured.Frames.Count).Select(f => new EvidenceFrame(f.Frame, times?[f.Frame], f.Score)).ToList();

    /// <summary>Forgets a deleted video's in-memory encodings, answers' evidence and the engine's prompt prefixes.</summary>
    public void Forget(string videoId)
    {
        _memory.ForgetVideo(videoId);
        evidence.Forget(videoId);
        if (model.IsReady) model.Engine.ForgetVideo(videoId);
    }
}
