namespace VQToken.Ingestion;

/// <summary>How many frames to sample: <see cref="Count"/> spread uniformly over the video (default from
/// <see cref="VideoOptions.DefaultFrames"/>), or, when <see cref="FramesPerSecond"/> is set, one frame every
/// 1/fps seconds with <see cref="Count"/> (or the default) as the cap.</summary>
public sealed record FrameRequest(int? Count = null, double? FramesPerSecond = null);
