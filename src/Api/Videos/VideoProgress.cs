namespace VQToken.Api.Videos;

/// <summary>How far processing got: a stage name (probe, frames, vision, compress, cache) and its fraction.</summary>
public sealed record VideoProgress(string Stage, double Fraction);
