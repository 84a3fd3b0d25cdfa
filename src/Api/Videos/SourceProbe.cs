namespace VQToken.Api.Videos;

/// <summary>What probing the source found, as stored with the video record.</summary>
public sealed record SourceProbe(double DurationSeconds, double Fps, int Width, int Height, string Codec);
