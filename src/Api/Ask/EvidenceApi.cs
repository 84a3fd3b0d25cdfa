using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Net.Http.Headers;
using VQToken.Api.ServiceDefaults;
using VQToken.Api.Videos;
using VQToken.Api.Videos.Clusters;

namespace VQToken.Api.Ask;

/// <summary><c>GET /videos/{id}/evidence/{evidenceId}.png</c>: an answer's evidence as heat over the sampled frames,
/// drawn on request by the cluster picture's renderer, render slots and picture cache.</summary>
public static class EvidenceApi
{
    public const string BackgroundHeader = "X-Evidence-Background";

    public static RouteHandlerBuilder MapEvidenceApi(this IEndpointRouteBuilder app) =>
        app.MapGet("/videos/{id}/evidence/{evidenceId}.png", GetPicture)
            .WithTags("Ask")
            .WithName("GetAnswerEvidencePicture")
            .WithSummary("Heat picture of an answer's evidence")
            .WithDescription("The address comes from `evidence.picture` of an ask with `\"evidence\": true`. A PNG grid of the sampled " +
                "frames (8 per row), every cell tinted by the attention that fell on it (scaled to the hottest cell), each caption " +
                "giving the frame's time and its share of the score. When the stored source was evicted the heat is drawn alone " +
                "(header `X-Evidence-Background: cells`). Evidence is kept in memory on the replica that answered " +
                "(Ask:EvidenceCacheBytes); an unknown or expired id is a 404. 429 with Retry-After when every render slot stays busy.")
            .Produces(StatusCodes.Status200OK, contentType: "image/png")
            .Produces(StatusCodes.Status304NotModified)
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status429TooManyRequests);

    internal static async Task<Results<FileContentHttpResult, StatusCodeHttpResult, ProblemHttpResult>> GetPicture(
        HttpContext context, string id, string evidenceId, AnswerEvidenceStore store, [AsParameters] ClusterServices s, CancellationToken cancellationToken)
    {
        string owner = Caller.Owner(context);
        var record = VideoId.IsValid(id) ? await s.Videos.GetOwnedAsync(owner, id, cancellationToken) : null;
        if (record is null) return TypedResults.Problem(Problems.VideoNotFound(id));
        if (store.Get(owner, id, evidenceId) is not { } kept)
            return TypedResults.Problem(Problems.Create(StatusCodes.Status404NotFound, Problems.NotFound, "Evidence not found",
                $"no evidence '{evidenceId}' of video '{id}' is kept here: it expired (Ask:EvidenceCacheBytes) or never existed; ask again with \"evidence\": true"));

        var source = await s.Sources.GetPathAsync(id, cancellationToken);
        var etag = new EntityTagHeaderValue($"\"{evidenceId}-{(source is null ? "c" : "f")}\"");
        if (context.Request.GetTypedHeaders().IfNoneMatch.Any(tag => tag.Compare(etag, useStrongComparison: false)))
        {
            context.Response.Headers.ETag = etag.ToString();
            return TypedResults.StatusCode(StatusCodes.Status304NotModified);
        }
        var picture = await s.Pictures.GetAsync(id, "evidence-" + etag.Tag, async timeout =>
        {
            var sampled = source is null ? null : await ClustersApi.SampleOrNullAsync(s, source, record, kept.Frames, ClusterPicture.Hottest(kept.CellScores, kept.Frames, kept.Grid), timeout);
            return new ClusterPng(ClusterPicture.RenderHeat(kept.CellScores, kept.Frames, kept.Grid, sampled?.Rgb, kept.FrameTimes), sampled is not null);
        }, cancellationToken, key: "evidence|" + evidenceId);
        context.Response.Headers[BackgroundHeader] = picture.OverFrames ? "frames" : "cells";
        context.Response.Headers.CacheControl = "private, no-cache";
        return TypedResults.File(picture.Png, "image/png", entityTag: etag);
    }
}
