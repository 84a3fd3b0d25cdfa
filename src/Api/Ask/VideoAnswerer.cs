using System.Diagnostics;
using System.Threading.Channels;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.Options;
using VQToken.Api.Cache;
using VQToken.Api.Inference;
using VQToken.Api.Processing;
using VQToken.Api.ServiceDefaults;
using VQToken.Api.Videos;
using VQToken.Engine.Caching;
using VQToken.Engine.Generation;
using VQToken.Engine.Runtime;
using VQToken.Engine.Text;

namespace VQToken.Api.Ask;

/// <summary>A video ready to be asked about: its record and visual representation.</summary>
public sealed record PreparedVideo(VideoRecord Record, VideoEncoding Encoding, bool CodebookFromCache);

/// <summary>Validated generation parameters.</summary>
public sealed record AskParameters(int MaxNewTokens, double Temperature, double TopP, int TopK, long? Seed, IReadOnlyList<string> Stop);

/// <summary>What one answer came to.</summary>
public sealed record Answer(string Text, string FinishReason, int PromptTokens, int CompletionTokens, AskResult? Engine, double TotalMs);

/// <summary>Answers questions about videos: waits for a video to be ready, gets its compressed
/// representation (memory → cache entry; a corrupt or missing entry is recomputed), builds the
/// chat prompt, runs the engine and turns tokens into text (streamed, with stop strings).</summary>
public sealed class VideoAnswerer(IVideoStore videos, CachedVideoResolver resolver, ModelHost model, IOptions<AskOptions> options, TimeProvider clock)
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
                string key = $"{record.Id}|{model.Fingerprint}|{record.UpdatedAt.UtcTicks}";
                if (_memory.TryGet(key, out var remembered)) return (new PreparedVideo(record, remembered, !recomputed), null);
                var cached = await resolver.ResolveAsync(record, model.Fingerprint, cancellationToken);
                if (cached.Outcome == CachedVideoOutcome.Ready)
                {
                    var encoding = cached.Entry!.Encoding;
                    _memory.TryAdd(key, encoding);
                    return (new PreparedVideo(record, encoding, !recomputed), null);
                }
                if (cached.Outcome == CachedVideoOutcome.Failed)
                    return (null, Problems.Create(StatusCodes.Status409Conflict, Problems.VideoFailed, "The video failed to process", cached.Reason));
                recomputed = true;   // re-enqueued: wait for it like any processing video
            }
            if (clock.GetUtcNow() >= waitUntil)
                return (null, Problems.Create(StatusCodes.Status409Conflict, Problems.NotReady, "The video is not ready yet",
                    $"video '{id}' is {record.Status.ToString().ToLowerInvariant()}; follow GET /videos/{id}/events and ask again when it is ready"));
            await Task.Delay(delay, clock, cancellationToken);
            delay = TimeSpan.FromMilliseconds(Math.Min(1000, delay.TotalMilliseconds * 1.5));
        }
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

    /// <summary>Generates the answer to <paramref name="messages"/> over the video. Text pieces go to
    /// <paramref name="onText"/> as they are final (stop strings are held back until decided).</summary>
    public async Task<Answer> AnswerAsync(PreparedVideo video, IReadOnlyList<ChatMessage> messages, AskParameters parameters,
        Func<string, Task>? onText, CancellationToken cancellationToken)
    {
        var clock = Stopwatch.StartNew();
        var tokenizer = Tokenizer;
        var prompt = Template.BuildPrompt(messages);
        var sampling = new SamplingOptions
        {
            MaxNewTokens = parameters.MaxNewTokens, Temperature = parameters.Temperature, TopP = parameters.TopP, TopK = parameters.TopK,
            Seed = parameters.Seed, StopIds = tokenizer.StopTokenIds.Select(i => (long)i).ToHashSet(),
        };
        var tokens = Channel.CreateUnbounded<long>(new UnboundedChannelOptions { SingleReader = true, SingleWriter = true });
        using var stopEarly = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        stopEarly.CancelAfter(TimeSpan.FromSeconds(options.Value.DeadlineSeconds));
        var run = model.Engine.AskAsync(new AskRequest(video.Record.Id, video.Encoding, prompt, sampling, OnToken: t => tokens.Writer.TryWrite(t)), stopEarly.Token);
        _ = run.ContinueWith(_ => tokens.Writer.TryComplete(), TaskScheduler.Default);

        var detokenizer = tokenizer.CreateStreamingDetokenizer();
        var text = new System.Text.StringBuilder();
        int emitted = 0, completion = 0;
        int holdBack = parameters.Stop.Count == 0 ? 0 : parameters.Stop.Max(s => s.Length) - 1;
        string? finish = null;
        await foreach (var token in tokens.Reader.ReadAllAsync(CancellationToken.None))
        {
            completion++;
            text.Append(detokenizer.Push((int)token));
            int cut = FirstStop(text, parameters.Stop);
            if (cut >= 0)
            {
                text.Length = cut;
                finish = "stop";
                stopEarly.Cancel();
            }
            int ready = finish is null ? Math.Max(emitted, text.Length - holdBack) : text.Length;
            if (ready > emitted && onText is not null) await onText(text.ToString(emitted, ready - emitted));
            emitted = Math.Max(emitted, ready);
            if (finish is not null) break;
        }
        AskResult? result = null;
        try
        {
            result = await run;
        }
        catch (OperationCanceledException) when (finish == "stop" && !cancellationToken.IsCancellationRequested) { }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw new TimeoutException($"the answer did not finish within {options.Value.DeadlineSeconds} s");
        }
        if (finish is null)
        {
            text.Append(detokenizer.Flush());
            if (text.Length > emitted && onText is not null) await onText(text.ToString(emitted, text.Length - emitted));
            finish = result!.FinishReason == FinishReason.Length ? "length" : "stop";
        }
        int promptTokens = result?.PromptTokens ?? prompt.Length - 1 + video.Encoding.VisualTokens;
        return new Answer(text.ToString(), finish, promptTokens, result?.Tokens.Count ?? completion, result, clock.Elapsed.TotalMilliseconds);
    }

    private static int FirstStop(System.Text.StringBuilder text, IReadOnlyList<string> stops)
    {
        if (stops.Count == 0) return -1;
        var s = text.ToString();
        int best = -1;
        foreach (var stop in stops)
        {
            int at = s.IndexOf(stop, StringComparison.Ordinal);
            if (at >= 0 && (best < 0 || at < best)) best = at;
        }
        return best;
    }

    /// <summary>Forgets a deleted video's in-memory encodings and the engine's prompt prefixes.</summary>
    public void Forget(string videoId)
    {
        _memory.ForgetVideo(videoId);
        if (model.IsReady) model.Engine.ForgetVideo(videoId);
    }
}
