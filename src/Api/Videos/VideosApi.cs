using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using VQToken.Api.Ask;
using VQToken.Api.Cache;
using VQToken.Api.Ingestion;
using VQToken.Api.ServiceDefaults;
using VQToken.Ingestion;
using VQToken.Ingestion.Url;

namespace VQToken.Api.Videos;

/// <summary>Handler dependencies of the video endpoints.</summary>
public sealed record VideoServices(
    IVideoStore Videos, ICompressedCache Cache, ISourceStore Sources, VideoIntake Intake,
    VideoUploadService Uploads, VideoUrlFetcher Fetcher, VideoAnswerer Answerer, Clusters.ClusterPictures Pictures);

/// <summary>Multipart upload form (documents the upload in the OpenAPI document / Swagger UI).</summary>
public sealed class VideoUploadForm
{
    /// <summary>The video file (any container/codec ffmpeg reads).</summary>
    public IFormFile? File { get; set; }
    /// <summary>Frames sampled uniformly (not with fps).</summary>
    public int? Frames { get; set; }
    /// <summary>Sample by rate: frames per second of the source.</summary>
    public double? Fps { get; set; }
    /// <summary>Cap of sampling by rate (default Video:MaxFrames).</summary>
    public int? MaxFrames { get; set; }
    /// <summary>Start of the sampled time range, seconds.</summary>
    public double? Start { get; set; }
    /// <summary>End of the sampled time range, seconds (at most the video's duration).</summary>
    public double? End { get; set; }
    public string? Compression { get; set; }
    public int? K { get; set; }
    public int? MinK { get; set; }
    public int? MaxK { get; set; }
    public string? Elbow { get; set; }
    public string? Tokens { get; set; }
}

/// <summary><c>/videos</c>: upload or fetch a video, watch it being processed, list and delete videos.</summary>
public static class VideosApi
{
    public static RouteGroupBuilder MapVideosApi(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/videos").WithTags("Videos");

        group.MapPost("/", CreateVideo)
            .WithName("CreateVideo")
            .WithSummary("Upload a video or give its URL")
            .WithDescription("multipart/form-data with a `file` part (+ optional `frames`, `fps`, `maxFrames`, `start`, `end`, `compression`, " +
                "`k`, `minK`, `maxK`, `elbow`, `tokens` fields), or JSON `{\"url\": ...}` with the same settings. Sampling: `frames` uniform, " +
                "or `fps` capped by `maxFrames`; `start`/`end` (seconds) limit it to a time range of the source; an `end` beyond the " +
                "video's duration is a 400 once the video is probed, before anything is queued. Omitted settings are the released model's published " +
                "path: vqtoken-adaptive, K in 12..32, the official elbow rule, codebook tokens (`k` alone means vqtoken-fixed). Returns 202 with the queued video and its Location; the same bytes " +
                "with the same settings return the existing video with 200 instead of being processed again.")
            // One Accepts call: routing rejects (415) content types that no Accepts lists. The OpenAPI
            // document gets the JSON body's own schema from UploadOrUrlBodyFilter.
            .Accepts<VideoUploadForm>("multipart/form-data", "application/json")
            .Produces<VideoResponse>(StatusCodes.Status202Accepted)
            .Produces<VideoResponse>(StatusCodes.Status200OK)
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status410Gone)
            .ProducesProblem(StatusCodes.Status413PayloadTooLarge)
            .ProducesProblem(StatusCodes.Status415UnsupportedMediaType)
            .ProducesProblem(StatusCodes.Status422UnprocessableEntity)
            .DisableAntiforgery();

        group.MapGet("/", ListVideos)
            .WithName("ListVideos")
            .WithSummary("List your videos")
            .WithDescription("Newest first, `limit` per page (1-500, default 50); filter by `status` (queued, processing, ready, failed); pass the `next` cursor as `after`.")
            .ProducesProblem(StatusCodes.Status400BadRequest);

        group.MapGet("/{id}", GetVideo)
            .WithName("GetVideo")
            .WithSummary("Get a video: status, progress, token counts, timings")
            .WithDescription("`status` is queued, processing, ready or failed (with `reason`); `tokens` compares the frame tokens " +
                "with the visual tokens the LLM receives; `timingsMs` has the time of each processing stage.")
            .ProducesProblem(StatusCodes.Status404NotFound);

        group.MapDelete("/{id}", DeleteVideo)
            .WithName("DeleteVideo")
            .WithSummary("Delete a video with its cached representation and stored source")
            .WithDescription("Removes the video, its cached codebook + index map for every model and its stored source; a video being " +
                "processed stops at its next progress update (its ffmpeg run and engine work end). 204 when deleted.")
            .ProducesProblem(StatusCodes.Status404NotFound);

        group.MapGet("/{id}/events", VideoEvents)
            .WithName("VideoEvents")
            .WithSummary("Server-Sent Events of a video's status and progress until it is ready or failed")
            .WithDescription("`progress` events (the video, with `progress.stage` frames/vision/compress, `progress.fraction`, " +
                "`progress.framesDone` of `progress.framesTotal` and `progress.etaSeconds` for the frames left) " +
                "whenever they change, then one `ready` or `failed` event with the final video, and the stream ends " +
                "(`deleted` if the video is deleted meanwhile). Works with the browser's EventSource.")
            .Produces(StatusCodes.Status200OK, contentType: "text/event-stream")
            .ProducesProblem(StatusCodes.Status404NotFound);
        return group;
    }

    // Typed errors (a video that cannot be ingested, one deleted while stored, a store outage) reach the error boundary.
    internal static async Task<Results<Accepted<VideoResponse>, Ok<VideoResponse>, ProblemHttpResult>> CreateVideo(
        HttpContext context, [AsParameters] VideoServicesParameter p, CancellationToken cancellationToken)
    {
        var s = p.Services;
        string owner = Caller.Owner(context);
        var request = context.Request;
        if (request.HasJsonContentType())
        {
            var (body, bodyProblem) = await JsonBody.ReadAsync<VideoUrlRequest>(request, cancellationToken);
            if (body is null) return TypedResults.Problem(bodyProblem!);
            if (string.IsNullOrWhiteSpace(body.Url))
                return TypedResults.Problem(Problems.Invalid("'url' is required", new Dictionary<string, string[]> { ["url"] = ["url is required"] }));
            if (body.Url.Length > 4096 || !Uri.TryCreate(body.Url, UriKind.Absolute, out var uri))
                return TypedResults.Problem(Problems.Invalid("'url' must be an absolute http(s) URL", new Dictionary<string, string[]> { ["url"] = ["not an absolute URL"] }));
            var (settings, errors) = s.Intake.Validate(body.Settings);
            if (settings is null) return TypedResults.Problem(Problems.Invalid("invalid video settings", errors));
            var fetched = await s.Fetcher.FetchAsync(uri, cancellationToken);
            if (s.Intake.ProblemsWith(settings, fetched.Info) is { Count: > 0 } rangeErrors)
            {
                fetched.Dispose();
                return TypedResults.Problem(Problems.Invalid("invalid video settings for this video", rangeErrors));
            }
            return Created(await s.Intake.AddAsync(fetched, new VideoSource(VideoSourceKind.Url, uri.ToString()), settings, owner, cancellationToken));
        }
        if (request.HasFormContentType && request.ContentType!.Contains("multipart/form-data", StringComparison.OrdinalIgnoreCase))
        {
            using var upload = await s.Uploads.ReceiveWithFieldsAsync(request, cancellationToken);
            var (fields, fieldErrors) = ParseFields(upload.Fields);
            if (fields is null) return TypedResults.Problem(Problems.Invalid("invalid video settings", fieldErrors));
            var (settings, errors) = s.Intake.Validate(fields);
            if (settings is null) return TypedResults.Problem(Problems.Invalid("invalid video settings", errors));
            if (s.Intake.ProblemsWith(settings, upload.Video.Info) is { Count: > 0 } rangeErrors)
                return TypedResults.Problem(Problems.Invalid("invalid video settings for this video", rangeErrors));
            var name = Path.GetFileName(upload.FileName ?? "upload");
            return Created(await s.Intake.AddAsync(upload.Video, new VideoSource(VideoSourceKind.Upload, name.Length > 256 ? name[..256] : name), settings, owner, cancellationToken));
        }
        return TypedResults.Problem(Problems.Create(StatusCodes.Status415UnsupportedMediaType, Problems.UnsupportedMedia, "Unsupported content type",
            "send multipart/form-data with a 'file' part, or application/json with a 'url'"));
    }

    private static Results<Accepted<VideoResponse>, Ok<VideoResponse>, ProblemHttpResult> Created(VideoCreation creation)
    {
        var body = VideoResponse.From(creation.Video);
        return creation.Created ? TypedResults.Accepted($"/videos/{creation.Video.Id}", body) : TypedResults.Ok(body);
    }

    /// <summary>The form fields an upload may carry besides its file.</summary>
    private static readonly string[] SettingFields = ["frames", "fps", "maxFrames", "start", "end", "compression", "k", "minK", "maxK", "elbow", "tokens"];

    private static (VideoSettingsRequest?, Dictionary<string, string[]>) ParseFields(IReadOnlyDictionary<string, string> fields)
    {
        var errors = new Dictionary<string, string[]>();
        int? Int(string name)
        {
            var value = fields.FirstOrDefault(kv => kv.Key.Equals(name, StringComparison.OrdinalIgnoreCase)).Value;
            if (string.IsNullOrWhiteSpace(value)) return null;
            if (int.TryParse(value, System.Globalization.NumberStyles.Integer, System.Globalization.CultureInfo.InvariantCulture, out var n)) return n;
            errors[name] = [$"{name} must be an integer"];
            return null;
        }
        double? Number(string name)
        {
            var value = fields.FirstOrDefault(kv => kv.Key.Equals(name, StringComparison.OrdinalIgnoreCase)).Value;
            if (string.IsNullOrWhiteSpace(value)) return null;
            if (double.TryParse(value, System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out var x) && double.IsFinite(x)) return x;
            errors[name] = [$"{name} must be a number"];
            return null;
        }
        string? Text(string name) => fields.FirstOrDefault(kv => kv.Key.Equals(name, StringComparison.OrdinalIgnoreCase)).Value;
        // A typo (or a setting this service does not have, such as fps) must not silently fall back to the defaults.
        foreach (var name in fields.Keys.Where(k => !SettingFields.Contains(k, StringComparer.OrdinalIgnoreCase)))
            errors[name] = [$"unknown field '{name}'; the settings are {string.Join(", ", SettingFields)}"];
        var settings = new VideoSettingsRequest
        {
            Frames = Int("frames"), Fps = Number("fps"), MaxFrames = Int("maxFrames"), Start = Number("start"), End = Number("end"), K = Int("k"), MinK = Int("minK"), MaxK = Int("maxK"),
            Compression = Text("compression"), Elbow = Text("elbow"), Tokens = Text("tokens"),
        };
        return (errors.Count == 0 ? settings : null, errors);
    }

    internal static async Task<Results<Ok<VideoListResponse>, ProblemHttpResult>> ListVideos(
        HttpContext context, [AsParameters] VideoServicesParameter p, string? status, int? limit, string? after, CancellationToken cancellationToken)
    {
        VideoStatus? filter = null;
        if (!string.IsNullOrEmpty(status))
        {
            if (!Enum.TryParse<VideoStatus>(status, ignoreCase: true, out var parsed) || int.TryParse(status, out _))
                return TypedResults.Problem(Problems.Invalid("invalid status filter", new Dictionary<string, string[]> { ["status"] = ["status must be queued, processing, ready or failed"] }));
            filter = parsed;
        }
        int pageSize = limit ?? 50;
        if (pageSize < 1 || pageSize > VideoQuery.MaxLimit)
            return TypedResults.Problem(Problems.Invalid("invalid limit", new Dictionary<string, string[]> { ["limit"] = [$"limit must be between 1 and {VideoQuery.MaxLimit}"] }));
        if (after is not null && !VideoId.IsValid(after))
            return TypedResults.Problem(Problems.Invalid("invalid cursor", new Dictionary<string, string[]> { ["after"] = ["after must be a video id (the 'next' of a previous page)"] }));
        var page = await p.Services.Videos.ListAsync(new VideoQuery(Caller.Owner(context), filter, pageSize, after), cancellationToken);
        return TypedResults.Ok(new VideoListResponse(page.Items.Select(VideoResponse.From).ToList(), page.Next));
    }

    internal static async Task<Results<Ok<VideoResponse>, ProblemHttpResult>> GetVideo(
        HttpContext context, string id, [AsParameters] VideoServicesParameter p, CancellationToken cancellationToken)
    {
        var record = VideoId.IsValid(id) ? await p.Services.Videos.GetOwnedAsync(Caller.Owner(context), id, cancellationToken) : null;
        return record is null ? TypedResults.Problem(Problems.VideoNotFound(id)) : TypedResults.Ok(VideoResponse.From(record));
    }

    internal static async Task<Results<NoContent, ProblemHttpResult>> DeleteVideo(
        HttpContext context, string id, [AsParameters] VideoServicesParameter p, CancellationToken cancellationToken)
    {
        var s = p.Services;
        var record = VideoId.IsValid(id) ? await s.Videos.GetOwnedAsync(Caller.Owner(context), id, cancellationToken) : null;
        if (record is null) return TypedResults.Problem(Problems.VideoNotFound(id));
        await s.Videos.DeleteAsync(id, cancellationToken);
        await s.Cache.DeleteAllAsync(id, cancellationToken);
        await s.Sources.DeleteAsync(id, cancellationToken);
        s.Answerer.Forget(id);
        s.Pictures.Forget(id);
        return TypedResults.NoContent();
    }

    internal static async Task VideoEvents(HttpContext context, string id, [AsParameters] VideoServicesParameter p)
    {
        var abort = context.RequestAborted;
        string owner = Caller.Owner(context);
        var record = VideoId.IsValid(id) ? await p.Services.Videos.GetOwnedAsync(owner, id, abort) : null;
        if (record is null)
        {
            await Problems.WriteAsync(context, Problems.VideoNotFound(id));
            return;
        }
        var events = await ServerSentEvents.StartAsync(context);
        string? last = null;
        try
        {
            while (record is not null)
            {
                var view = VideoResponse.From(record);
                var snapshot = $"{view.Status}|{view.Progress?.Stage}|{view.Progress?.Fraction:F3}|{view.Progress?.FramesDone}";
                if (snapshot != last)
                {
                    await events.WriteJsonAsync(view.Status is "ready" or "failed" ? view.Status : "progress", view, abort);
                    last = snapshot;
                }
                if (record.Status is VideoStatus.Ready or VideoStatus.Failed) return;
                await Task.Delay(250, abort);
                record = await p.Services.Videos.GetOwnedAsync(owner, id, abort);
            }
            await events.WriteRawAsync("deleted", "{}", abort);
        }
        catch (OperationCanceledException) when (abort.IsCancellationRequested) { }
    }
}

/// <summary>[AsParameters] wrapper so handlers get the services record from DI.</summary>
public readonly record struct VideoServicesParameter(VideoServices Services);
