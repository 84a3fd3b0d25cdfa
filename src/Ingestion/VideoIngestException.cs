namespace VQToken.Ingestion;

/// <summary>The one exception type of video ingestion and sampling: <see cref="Kind"/> says what went
/// wrong, the message says it for a person.</summary>
public sealed class VideoIngestException(VideoErrorKind kind, string message, Exception? inner = null)
    : Exception(message, inner)
{
    public VideoErrorKind Kind { get; } = kind;
}
