using TorchSharp;
using VQToken.Engine.Runtime;

namespace VQToken.Engine.Video;

/// <summary>The sampled frames of one video, as RGB bytes (managed memory).</summary>
/// <param name="Rgb">[N, S, S, 3] uint8 RGB frames, in sampling order.</param>
/// <param name="FrameIndices">Source frame index of each of the N frames (repeats for short videos).</param>
/// <param name="DecodedFrames">Distinct frames ffmpeg delivered; fewer than asked means a damaged tail
/// whose missing frames were filled with the last good one.</param>
public sealed record SampledFrames(RgbFrames Rgb, int[] FrameIndices, VideoInfo Video, int DecodedFrames) : IDisposable
{
    private torch.Tensor? _frames;

    /// <summary>The vision tower's input [N, 3, S, S] float32 in [-1, 1], made on first use on the
    /// calling thread (tools and tests; the service hands <see cref="Rgb"/> to the engine thread).
    /// Owned by this object.</summary>
    public torch.Tensor Frames => _frames ??= Rgb.ToPixels(0, Rgb.Count).DetachFromDisposeScope();

    public void Dispose() => _frames?.Dispose();
}
