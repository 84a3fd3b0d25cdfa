using Microsoft.Extensions.Options;
using VQToken.Api.Inference;
using VQToken.Api.Storage;
using VQToken.Engine.Video;

namespace VQToken.Api.Videos;

/// <summary>Turns validated settings + an ingested video into a stored, queued video — or the
/// existing one when the same owner already sent the same bytes with the same settings.</summary>
public sealed class VideoIntake(IVideoStore videos, ISourceStore sources, IJobQueue queue, IOptions<VideoOptions> videoOptions, ModelHost model, TimeProvider clock)
{
    /// <summary>Validates request settings; returns the settings or the error messages by field. Omitted
    /// settings take the published path's defaults (adaptive K in 12..32, official elbow, codebook tokens);
    /// a <c>k</c> without <c>compression</c> means vqtoken-fixed.</summary>
    public (CompressionSettings? Settings, Dictionary<string, string[]> Errors) Validate(VideoSettingsRequest request)
    {
        var errors = new Dictionary<string, string[]>();
        var limits = videoOptions.Value;
        int frames = request.Frames ?? limits.DefaultFrames;
        if (frames < 1 || frames > limits.MaxFrames) errors["frames"] = [$"frames must be between 1 and {limits.MaxFrames}"];
        // k alone means a fixed codebook of that size; nothing at all means the published adaptive path.
        if (!CompressionModes.TryParse(request.Compression ?? (request.K is null ? "vqtoken-adaptive" : "vqtoken-fixed"), out var mode))
        {
            errors["compression"] = ["compression must be vqtoken-adaptive, vqtoken-fixed or full"];
            return (null, errors);
        }
        var elbow = ElbowIndexing.Official;
        if (request.Elbow is not null && !CompressionModes.TryParseElbow(request.Elbow, out elbow)) errors["elbow"] = ["elbow must be official or centered"];
        var tokens = TokenPath.Codebook;
        if (request.Tokens is not null && !CompressionModes.TryParseTokenPath(request.Tokens, out tokens)) errors["tokens"] = ["tokens must be codebook or attention"];
        CompressionSettings settings = mode switch
        {
            CompressionMode.VQTokenFixed => CompressionSettings.Fixed(frames, request.K ?? 32, tokens),
            CompressionMode.VQTokenAdaptive => CompressionSettings.Adaptive(frames, request.MinK ?? 12, request.MaxK ?? 32, elbow, tokens),
            _ => CompressionSettings.FullTokens(frames),
        };
        if (mode == CompressionMode.VQTokenFixed && (request.MinK is not null || request.MaxK is not null)) errors["minK"] = ["minK/maxK apply to vqtoken-adaptive only"];
        if (mode != CompressionMode.VQTokenFixed && request.K is not null) errors["k"] = ["k applies to vqtoken-fixed only"];
        if (mode == CompressionMode.Full && (request.MinK is not null || request.MaxK is not null)) errors["minK"] = ["full takes no k, minK or maxK"];
        if (mode != CompressionMode.VQTokenAdaptive && request.Elbow is not null) errors["elbow"] = ["elbow applies to vqtoken-adaptive only"];
        if (mode == CompressionMode.Full && request.Tokens is not null) errors["tokens"] = ["full keeps all pooled frame tokens: tokens applies to the VQToken modes only"];
        if (settings.Tokens == TokenPath.Attention && model.Info is { HasVQAttention: false })
            errors["tokens"] = ["tokens=attention needs VQ-Attention weights (model.cross_attention.*), which the loaded checkpoint does not have; use tokens=codebook (the published path)"];
        // Bounded work: K, the adaptive range and frames × K bound one video's K-means (Video:MaxK, …).
        if (settings.K is < 1 || settings.K > limits.MaxK) errors["k"] = [$"k must be between 1 and {limits.MaxK} (Video:MaxK)"];
        if (settings.MinK is < 1 || settings.MaxK is < 1 || settings.MaxK > limits.MaxK || settings.MinK > settings.MaxK)
            errors["maxK"] = [$"minK and maxK must satisfy 1 <= minK <= maxK <= {limits.MaxK} (Video:MaxK)"];
        else if (settings.MaxK - settings.MinK > limits.MaxAdaptiveKSpan)
            errors["maxK"] = [$"maxK - minK must be at most {limits.MaxAdaptiveKSpan} (Video:MaxAdaptiveKSpan)"];
        if ((settings.K ?? settings.MaxK) is { } largestK && !errors.ContainsKey("k") && !errors.ContainsKey("maxK") && (long)frames * largestK > limits.MaxFramesTimesK)
            errors[settings.K is null ? "maxK" : "k"] = [$"frames x {(settings.K is null ? "maxK" : "k")} = {(long)frames * largestK} exceeds {limits.MaxFramesTimesK} (Video:MaxFramesTimesK): use fewer frames or fewer clusters"];
        if (errors.Count == 0 && settings.Validate() is { } problem) errors["settings"] = [problem];
        return (errors.Count == 0 ? settings : null, errors);
    }

    /// <summary>Stores the video (dedupe) and queues it. Consumes <paramref name="ingested"/>.</summary>
    public async Task<VideoCreation> AddAsync(IngestedVideo ingested, VideoSource source, CompressionSettings settings, string owner, CancellationToken cancellationToken)
    {
        using (ingested)
        {
            var info = ingested.Info;
            var candidate = VideoRecord.CreateQueued(owner, source, ingested.Sha256, settings, clock.GetUtcNow()) with
            {
                Probe = new Storage.VideoProbe(info.DurationSeconds, info.FrameRate, info.Width, info.Height, info.CodecName),
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
