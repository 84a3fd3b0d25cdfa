using Microsoft.Extensions.Options;
using VQToken.Api.Inference;
using VQToken.Api.Processing;
using VQToken.Ingestion;

namespace VQToken.Api.Videos;

/// <summary>Turns validated settings + an ingested video into a stored, queued video — or the
/// existing one when the same owner already sent the same bytes with the same settings.</summary>
public sealed class VideoIntake(IVideoStore videos, ISourceStore sources, IJobQueue queue, IOptions<VideoOptions> videoOptions, ModelHost model,
    FrameSampler sampler, TimeProvider clock)
{
    /// <summary>Validates request settings; returns the settings or the error messages by field. Omitted
    /// settings take the published path's defaults (adaptive K in 12..32, official elbow, codebook tokens);
    /// a <c>k</c> without <c>compression</c> means vqtoken-fixed.</summary>
    public (CompressionSettings? Settings, Dictionary<string, string[]> Errors) Validate(VideoSettingsRequest request)
    {
        var errors = new Dictionary<string, string[]>();
        var limits = videoOptions.Value;
        // k alone means a fixed codebook of that size; nothing at all means the published adaptive path.
        if (!CompressionModes.TryParse(request.Compression ?? (request.K is null ? "vqtoken-adaptive" : "vqtoken-fixed"), out var mode))
        {
            errors["compression"] = ["compression must be vqtoken-adaptive, vqtoken-fixed or full"];
            return (null, errors);
        }
        ElbowIndexing? elbow = null;
        if (request.Elbow is not null)
        {
            if (CompressionModes.TryParseElbow(request.Elbow, out var parsed)) elbow = parsed;
            else errors["elbow"] = ["elbow must be official or centered"];
        }
        TokenPath? tokens = null;
        if (request.Tokens is not null)
        {
            if (CompressionModes.TryParseTokenPath(request.Tokens, out var parsed)) tokens = parsed;
            else errors["tokens"] = ["tokens must be codebook or attention"];
        }
        // Omitted fields of the chosen mode take the published defaults; fields of another mode stay, so the
        // one validation below names them. With fps, maxFrames (default Video:MaxFrames) is the count's cap;
        // frames (a uniform count) together with fps is ambiguous and named.
        if (request.Fps is not null && request.Frames is not null)
            errors["frames"] = ["frames (a uniform count) and fps (a rate) exclude each other: with fps, maxFrames caps the count"];
        int? maxFrames = request.Fps is null ? request.MaxFrames : request.MaxFrames ?? limits.MaxFrames;
        var settings = new CompressionSettings
        {
            Frames = request.Fps is null ? request.Frames ?? limits.DefaultFrames : maxFrames!.Value,
            Fps = request.Fps,
            MaxFrames = maxFrames,
            Start = request.Start is 0 ? null : request.Start,   // 0 is the default: one key for one meaning
            End = request.End,
            Mode = mode,
            K = mode == CompressionMode.VQTokenFixed ? request.K ?? 32 : request.K,
            MinK = mode == CompressionMode.VQTokenAdaptive ? request.MinK ?? 12 : request.MinK,
            MaxK = mode == CompressionMode.VQTokenAdaptive ? request.MaxK ?? 32 : request.MaxK,
            Elbow = mode == CompressionMode.VQTokenAdaptive ? elbow ?? ElbowIndexing.Official : elbow,
            Tokens = mode == CompressionMode.Full ? tokens : tokens ?? TokenPath.Codebook,
        };
        foreach (var (field, messages) in settings.Problems(new CompressionLimits(limits.MaxFrames, limits.MaxK, limits.MaxAdaptiveKSpan, limits.MaxFramesTimesK, VideoOptions.Section))) errors.TryAdd(field, messages);
        if (settings.Tokens == TokenPath.Attention && model.Info is { HasVQAttention: false })
            errors["tokens"] = ["tokens=attention needs VQ-Attention weights (model.cross_attention.*), which the loaded checkpoint does not have; use tokens=codebook (the published path)"];
        return (errors.Count == 0 ? settings : null, errors);
    }

    /// <summary>Problems of valid settings against the probed video, by field: a time range beyond its duration,
    /// or one that holds none of its frames. Checked before the video is stored or queued.</summary>
    public Dictionary<string, string[]> ProblemsWith(CompressionSettings settings, VideoInfo info)
    {
        var errors = settings.RangeProblems(info.DurationSeconds);
        if (errors.Count > 0 || (settings.Start is null && settings.End is null)) return errors;
        try
        {
            sampler.ChooseIndices(info, settings.ToFrameRequest());
        }
        catch (VideoIngestException e) when (e.Kind == VideoErrorKind.InvalidFrameRequest)
        {
            errors[settings.End is null ? "start" : "end"] = [e.Message];
        }
        return errors;
    }

    /// <summary>Stores the video (dedupe) and queues it. Consumes <paramref name="ingested"/>.</summary>
    public async Task<VideoCreation> AddAsync(IngestedVideo ingested, VideoSource source, CompressionSettings settings, string owner, CancellationToken cancellationToken)
    {
        using (ingested)
        {
            var info = ingested.Info;
            var candidate = VideoRecord.CreateQueued(owner, source, ingested.Sha256, settings, clock.GetUtcNow()) with
            {
                Probe = new SourceProbe(info.DurationSeconds, info.FrameRate, info.Width, info.Height, info.CodecName),
            };
            var creation = await videos.CreateOrGetExistingAsync(candidate, cancellationToken);
            if (!creation.Created)
            {
                // A retry of an upload that a store outage cut between its record and its job: add the job now
                // (idempotent; only once the source is in place, so an upload still being stored is left to finish).
                if (creation.Video.Status == VideoStatus.Queued && await sources.GetPathAsync(creation.Video.Id, cancellationToken) is not null)
                    await queue.EnqueueAsync(creation.Video.Id, cancellationToken);
                return creation;
            }
            var id = creation.Video.Id;
            StagedSource? staged = null;
            try
            {
                await using (var file = File.OpenRead(ingested.Path)) staged = await sources.StageAsync(file, cancellationToken);
                await sources.CommitAsync(staged, id, cancellationToken);
                staged = null;
                // A DELETE removes the record before the source, so one that ran while the source was being
                // stored is seen here, after the commit: the source it could not remove yet is removed now.
                if (await videos.GetAsync(id, cancellationToken) is null)
                {
                    await sources.DeleteAsync(id, CancellationToken.None);
                    throw new VideoDeletedException(id);
                }
                await queue.EnqueueAsync(id, cancellationToken);
                return creation;
            }
            catch (Exception e) when (e is not VideoDeletedException)
            {
                if (staged is not null) await sources.DiscardAsync(staged, CancellationToken.None);
                await videos.UpdateAsync(id, r => r with { Status = VideoStatus.Failed, Reason = "storing the source failed: " + e.Message }, CancellationToken.None);
                throw;
            }
        }
    }
}

/// <summary>The video was deleted while its upload was being stored; nothing of it is left.</summary>
public sealed class VideoDeletedException(string videoId) : Exception($"video '{videoId}' was deleted while it was being stored")
{
    public string VideoId { get; } = videoId;
}
