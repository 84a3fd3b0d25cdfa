namespace VQToken.Ingestion;

/// <summary>How many frames to sample: <see cref="Count"/> spread uniformly over the video (default from
/// <see cref="VideoOptions.DefaultFrames"/>), or, when <see cref="FramesPerSecond"/> is set, one frame every
/// 1/fps seconds with <see cref="Count"/> (or the default) as the cap; either over the whole video or over the
/// time range [<see cref="Start"/>, <see cref="End"/>) in seconds.</summary>
public sealed record FrameRequest(int? Count = null, double? FramesPerSecond = null, double? Start = null, double? End = null);
