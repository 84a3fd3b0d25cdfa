using VQToken.Ingestion;

namespace VQToken.Api.Ingestion;

/// <summary>The HTTP status for each <see cref="VideoErrorKind"/>, in one place for the endpoints.</summary>
public static class VideoErrorStatus
{
    public static int For(VideoErrorKind kind) => kind switch
    {
        VideoErrorKind.TooLarge => StatusCodes.Status413PayloadTooLarge,
        VideoErrorKind.NotAVideo or VideoErrorKind.NoVideoStream => StatusCodes.Status415UnsupportedMediaType,
        VideoErrorKind.Undecodable or VideoErrorKind.TooLong or VideoErrorKind.ResolutionTooHigh => StatusCodes.Status422UnprocessableEntity,
        VideoErrorKind.InvalidFrameRequest or VideoErrorKind.MalformedUpload or VideoErrorKind.UrlRefused => StatusCodes.Status400BadRequest,
        VideoErrorKind.UrlUnreachable => StatusCodes.Status502BadGateway,
        VideoErrorKind.Timeout => StatusCodes.Status504GatewayTimeout,
        VideoErrorKind.ToolUnavailable => StatusCodes.Status503ServiceUnavailable,
        _ => StatusCodes.Status500InternalServerError,
    };
}
