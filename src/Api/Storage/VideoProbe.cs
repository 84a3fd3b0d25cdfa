namespace VQToken.Api.Storage;

/// <summary>What probing the source found.</summary>
public sealed record VideoProbe(double DurationSeconds, double Fps, int Width, int Height, string Codec);
