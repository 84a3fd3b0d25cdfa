using VQToken.Api.Ingestion;
using VQToken.Api.ServiceDefaults;
using VQToken.Api.Storage;
using VQToken.Api.Videos;
using VQToken.Api.Videos.Clusters;
using VQToken.Engine.Runtime;
using VQToken.Ingestion;

namespace VQToken.Api;

/// <summary>The service's typed errors as problems: ingestion, a video deleted while stored, the engine's
/// overload and unavailability, store outages, busy renders and the answer deadline.</summary>
public sealed class ApiErrors : IExceptionProblems
{
    public MappedProblem? TryMap(Exception exception) => exception switch
    {
        VideoIngestException ingest => new(FromVideoError(ingest)),
        VideoDeletedException deleted => new(Problems.Create(StatusCodes.Status410Gone, Problems.NotFound, "The video was deleted", deleted.Message)),
        EngineOverloadedException overload => new(Problems.Create(StatusCodes.Status429TooManyRequests, Problems.Overloaded, "The service is overloaded", overload.Message), overload.RetryAfter),
        EngineUnavailableException unavailable => new(Problems.Unavailable(unavailable.Message)),
        ClusterRendersBusyException busy => new(Problems.Create(StatusCodes.Status429TooManyRequests, Problems.Overloaded, "Cluster pictures are busy", busy.Message), busy.RetryAfter),
        // Before TimeoutException: a Redis timeout is the store's (503), not the answer's deadline.
        _ when StoreFaults.IsUnavailable(exception) => new(Problems.StoreOutage(), TimeSpan.FromSeconds(StoreFaults.RetryAfterSeconds)),
        TimeoutException timeout => new(Problems.Create(StatusCodes.Status504GatewayTimeout, Problems.Timeout, "The answer took too long", timeout.Message)),
        _ => null,
    };

    /// <summary>An ingestion error kind as status + type.</summary>
    public static Microsoft.AspNetCore.Mvc.ProblemDetails FromVideoError(VideoIngestException e)
    {
        string type = e.Kind switch
        {
            VideoErrorKind.TooLarge => Problems.TooLarge,
            VideoErrorKind.NotAVideo or VideoErrorKind.NoVideoStream => Problems.UnsupportedMedia,
            VideoErrorKind.Undecodable or VideoErrorKind.TooLong or VideoErrorKind.ResolutionTooHigh => Problems.UndecodableVideo,
            VideoErrorKind.UrlRefused => Problems.UrlRefused,
            VideoErrorKind.UrlUnreachable => Problems.UrlUnreachable,
            VideoErrorKind.Timeout => Problems.Timeout,
            VideoErrorKind.ToolUnavailable => Problems.NotReady,
            _ => Problems.Validation,
        };
        return Problems.Create(VideoErrorStatus.For(e.Kind), type, Title(e.Kind), e.Message);
    }

    private static string Title(VideoErrorKind kind) => kind switch
    {
        VideoErrorKind.TooLarge => "The video is too large",
        VideoErrorKind.NotAVideo => "The content is not a video",
        VideoErrorKind.NoVideoStream => "The file has no video stream",
        VideoErrorKind.Undecodable => "The video cannot be decoded",
        VideoErrorKind.TooLong => "The video is too long",
        VideoErrorKind.ResolutionTooHigh => "The video resolution is too high",
        VideoErrorKind.UrlRefused => "The URL is not allowed",
        VideoErrorKind.UrlUnreachable => "The URL could not be fetched",
        VideoErrorKind.Timeout => "Processing the video timed out",
        VideoErrorKind.ToolUnavailable => "Video tools are unavailable",
        _ => "The video request is invalid",
    };
}
