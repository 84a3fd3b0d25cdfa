namespace VQToken.Ingestion;

/// <summary>The sampled frames of one video, as RGB bytes (managed memory).</summary>
/// <param name="Rgb">[N, S, S, 3] uint8 RGB frames, in sampling order.</param>
/// <param name="FrameIndices">Source frame index of each of the N frames (repeats for short videos).</param>
/// <param name="DecodedFrames">Distinct frames ffmpeg delivered; fewer than asked means a damaged tail
/// whose missing frames were filled with the last good one.</param>
public sealed record SampledFrames(RgbFrames Rgb, int[] FrameIndices, VideoInfo Video, int DecodedFrames);
