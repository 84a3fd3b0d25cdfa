namespace VQToken.Ingestion;

/// <summary>What ffprobe says about a video file, for the one video stream that is sampled.</summary>
/// <param name="StreamIndex">Index of the sampled stream in the container (for `-map 0:i`).</param>
/// <param name="FrameCount">Frames in that stream, counted from its packets (not the header's claim).</param>
/// <param name="Width">Displayed width, after the rotation metadata is applied.</param>
/// <param name="Height">Displayed height, after the rotation metadata is applied.</param>
/// <param name="Rotation">Rotation from the display matrix / rotate tag, degrees.</param>
public sealed record VideoInfo(
    string FormatName,
    string CodecName,
    int StreamIndex,
    double DurationSeconds,
    long FrameCount,
    double FrameRate,
    int Width,
    int Height,
    int Rotation,
    bool HasAudio);
