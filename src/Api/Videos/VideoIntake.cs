using Microsoft.Extensions.Options;
using VQToken.Api.Storage;
using VQToken.Engine.Video;

namespace VQToken.Api.Videos;

/// <summary>Turns validated settings + an ingested video into a stored, queued video — or the
/// existing one when the same owner already sent the same bytes with the same settings.</summary>
public sealed class VideoIntake(IVideoStore videos, ISourceStore sources, IJobQueue queue, IOptions<VideoOptions> videoOptions, TimeProvider clock)
{
    /// <summary>Validates request settings; returns the settings or the error messages by field.</summary>
    public (CompressionSettings? Settings, Dictionary<string, string[]> Errors) Validate(VideoSettingsRequest request)
    {
        var errors = new Dictionary<string, string[]>();
        var limits = videoOptions.Value;
        int frames = request.Frames ?? limits.DefaultFrames;
        if (frames < 1 || frames > limits.MaxFrames) errors["frames"] = [$"frames must be between 1 and {limits.MaxFrames}"];
        if (!CompressionModes.TryParse(request.Compression ?? "vqtoken-fixed", out var mode))
        {
            errors["compression"] = ["compression must be vqtoken-fixed, vqtoken-adaptive or full"];
            return (null, errors);
        }
        CompressionSettings settings = mode switch
        {
            CompressionMode.VQTokenFixed => CompressionSettings.Fixed(frames, request.K ?? 32),
            CompressionMode.VQTokenAdaptive => CompressionSettings.Adaptive(frames, request.MinK ?? 12, request.MaxK ?? 32),
            _ => CompressionSettings.FullTokens(frames),
        };
        if (mode == CompressionMode.VQTokenFixed && (request.MinK is not null || request.MaxK is not null)) errors["minK"] = ["minK/maxK apply to vqtoken-adaptive only"];
        if (mode != CompressionMode.VQTokenFixed && request.K is not null) errors["k"] = ["k applies to vqtoken-fixed only"];
        if (mode == CompressionMode.Full && (request.MinK is not null || request.MaxK is not null)) errors["minK"] = ["full takes no k, minK or maxK"];
        if (settings.K is < 1 or > 4096) errors["k"] = ["k must be between 1 and 4096"];
        if (settings.MinK is < 1 or > 4096 || settings.MaxK is < 1 or > 4096 || settings.MinK > settings.MaxK)
            errors["maxK"] = ["minK and maxK must satisfy 1 <= minK <= maxK <= 4096"];
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
            try
            {
                StagedSource staged;
                await using (var file = File.OpenRead(ingested.Path)) staged = await sources.StageAsync(file, cancellationToken);
                await sources.CommitAsync(staged, creation.Video.Id, cancellationToken);
                await queue.EnqueueAsync(creation.Video.Id, cancellationToken);
                return creation;
            }
            catch (Exception e)
            {
                await videos.UpdateAsync(creation.Video.Id, r => r with { Status = VideoStatus.Failed, Reason = "storing the source failed: " + e.Message }, CancellationToken.None);
                throw;
            }
        }
    }
}
