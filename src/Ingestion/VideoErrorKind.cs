namespace VQToken.Ingestion;

/// <summary>Why a video could not be ingested or sampled. The API maps each kind to one HTTP status
/// (e.g. <see cref="TooLarge"/> to 413, <see cref="NotAVideo"/> to 415, <see cref="UrlRefused"/> to 400).</summary>
public enum VideoErrorKind
{
    /// <summary>The bytes are not a supported video container (empty, random, text, a still image, audio).</summary>
    NotAVideo,
    /// <summary>A container ffprobe understands, but without a video stream (e.g. audio-only mp4).</summary>
    NoVideoStream,
    /// <summary>The container looked fine but no frame could be decoded (truncated, corrupt payload).</summary>
    Undecodable,
    /// <summary>The upload or download exceeded the byte limit.</summary>
    TooLarge,
    /// <summary>The video is longer than the duration limit.</summary>
    TooLong,
    /// <summary>The frame size exceeds the resolution limit.</summary>
    ResolutionTooHigh,
    /// <summary>More frames were requested than the configured cap, or a non-positive count.</summary>
    InvalidFrameRequest,
    /// <summary>The URL is not allowed: scheme, host allow-list, or an address in a refused range.</summary>
    UrlRefused,
    /// <summary>The URL could not be fetched: DNS failure, connection failure, HTTP error, timeout.</summary>
    UrlUnreachable,
    /// <summary>The upload request is not a usable body (bad multipart, no file part).</summary>
    MalformedUpload,
    /// <summary>ffmpeg/ffprobe took longer than the configured timeout.</summary>
    Timeout,
    /// <summary>ffmpeg or ffprobe could not be started.</summary>
    ToolUnavailable,
}
