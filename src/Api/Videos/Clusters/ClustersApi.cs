using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Net.Http.Headers;
using VQToken.Api.Cache;
using VQToken.Api.Processing;
using VQToken.Api.ServiceDefaults;
using VQToken.Api.Videos;
using VQToken.Engine.Runtime;
using VQToken.Ingestion;

namespace VQToken.Api.Videos.Clusters;

/// <summary><c>GET /videos/{id}/clusters.png</c>: the video's index map drawn over its sampled frames.</summary>
public static class ClustersApi
{
    public const string BackgroundHeader = "X-Clusters-Background";
    private const int RenderVersion = 3;   // bump when the drawing changes, so cached pictures are refetched

    public static RouteHandlerBuilder MapClustersApi(this IEndpointRouteBuilder app) =>
        app.MapGet("/videos/{id}/clusters.png", GetClusters)
            .WithTags("Videos")
            .WithName("GetVideoClusters")
            .WithSummary("Picture of a video's clusters: its index map over the sampled frames")
            .WithDescription("A PNG grid of the T sampled frames (8 per row) with every cell of the 27×27 ViT grid tinted by the " +
                "colour of the codebook entry it was assigned to, like the paper's Fig. 2; each tile's caption gives the frame's time in the source. When the stored source was evicted, " +
                "the cells are drawn on their own (header `X-Clusters-Background: cells` instead of `frames`). VQToken modes " +
                "only: a `full` video has no clusters (409). 409 while the video is not ready. Supports `If-None-Match`. A picture is " +
                "drawn once and kept; 429 with Retry-After when every render slot stays busy (`Clusters:MaxConcurrentRenders`).")
            .Produces(StatusCodes.Status200OK, contentType: "image/png")
            .Produces(StatusCodes.Status304NotModified)
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status409Conflict)
            .ProducesProblem(StatusCodes.Status429TooManyRequests)
            .ProducesProblem(StatusCodes.Status503ServiceUnavailable);

    internal static async Task<Results<FileContentHttpResult, StatusCodeHttpResult, ProblemHttpResult>> GetClusters(HttpContext context, string id, [AsParameters] ClusterServices s, CancellationToken cancellationToken)
    {
        var record = VideoId.IsValid(id) ? await s.Videos.GetOwnedAsync(Caller.Owner(context), id, cancellationToken) : null;
        if (record is null) return TypedResults.Problem(Problems.VideoNotFound(id));
        if (record.Settings.Mode == CompressionMode.Full)
            return TypedResults.Problem(Problems.Create(StatusCodes.Status409Conflict, Problems.NoClusters, "The video has no clusters",
                $"video '{id}' was processed with compression 'full' (no codebook, no index map); upload it with vqtoken-fixed or vqtoken-adaptive"));
        if (record.Status == VideoStatus.Failed)
            return TypedResults.Problem(Problems.Create(StatusCodes.Status409Conflict, Problems.VideoFailed, "The video failed to process", record.Reason));
        if (record.Status != VideoStatus.Ready) return NotReady(id, record.Status.ToString().ToLowerInvariant());
        if (!s.Model.IsReady) return TypedResults.Problem(Problems.Unavailable($"the model is {s.Model.Status}"));

        var cached = await s.Resolver.ResolveAsync(record, s.Model.Fingerprint, cancellationToken);
        if (cached.Outcome == CachedVideoOutcome.Failed)
            return TypedResults.Problem(Problems.Create(StatusCodes.Status409Conflict, Problems.VideoFailed, "The video failed to process", cached.Reason));
        if (cached.Outcome == CachedVideoOutcome.Recomputing) return NotReady(id, "being recomputed");
        var entry = cached.Entry!;

        var source = await s.Sources.GetPathAsync(id, cancellationToken);
        var etag = new EntityTagHeaderValue($"\"{id}-{s.Model.Fingerprint}-{entry.CreatedAt.UtcTicks}-{(source is null ? "c" : "f")}{RenderVersion}\"");
        if (context.Request.GetTypedHeaders().IfNoneMatch.Any(tag => tag.Compare(etag, useStrongComparison: false)))
        {
            context.Response.Headers.ETag = etag.ToString();
            return TypedResults.StatusCode(StatusCodes.Status304NotModified);
        }

        // All render slots busy: ClusterRendersBusyException, a 429 with Retry-After from the error boundary.
        var picture = await s.Pictures.GetAsync(id, etag.Tag.ToString(), async timeout =>
        {
            var sampled = source is null ? null : await SampleOrNullAsync(s, source, record, entry.Encoding.Frames, ClusterPicture.Shown(entry.Encoding.Frames), timeout);
            return new ClusterPng(ClusterPicture.Render(entry.Encoding.Compressed!, sampled?.Rgb, record.FrameTimes ?? entry.FrameTimes), sampled is not null);
        }, cancellationToken);
        context.Response.Headers[BackgroundHeader] = picture.OverFrames ? "frames" : "cells";
        context.Response.Headers.CacheControl = "private, no-cache";
        return TypedResults.File(picture.Png, "image/png", entityTag: etag);
    }

    /// <summary>The <paramref name="shown"/> frames of those the index map was computed from: the same sampler and
    /// settings as processing, so the same frame indices. Null (cells only) when the source cannot be decoded any
    /// more, or not within <see cref="ClustersOptions.RenderTimeout"/> (<paramref name="timeout"/>).</summary>
    internal static async Task<SampledFrames?> SampleOrNullAsync(ClusterServices s, string source, VideoRecord record, int frames, int[] shown, CancellationToken timeout)
    {
        var log = s.Loggers.CreateLogger(typeof(ClustersApi));
        try
        {
            var info = await s.Sampler.ProbeAsync(source, timeout);
            var indices = s.Sampler.ChooseIndices(info, record.Settings.ToFrameRequest());
            if (indices.Length == frames) return await s.Sampler.SampleAsync(source, info, shown.Select(t => indices[t]).ToArray(), timeout);
            log.LogWarning("Video {VideoId}: {Sampled} frames sampled for a picture of {Frames}; drawing the cells alone", record.Id, indices.Length, frames);
        }
        catch (VideoIngestException e)
        {
            log.LogWarning("Video {VideoId}: the source could not be sampled again ({Reason}); drawing the cells alone", record.Id, e.Message);
        }
        catch (OperationCanceledException) when (timeout.IsCancellationRequested)
        {
            log.LogWarning("Video {VideoId}: sampling the frames took longer than Clusters:RenderTimeout; drawing the cells alone", record.Id);
        }
        return null;
    }

    private static ProblemHttpResult NotReady(string id, string state) =>
        TypedResults.Problem(Problems.Create(StatusCodes.Status409Conflict, Problems.NotReady, "The video is not ready yet",
            $"video '{id}' is {state}; follow GET /videos/{id}/events and fetch the clusters when it is ready"));
}
