using TorchSharp;

namespace VQToken.Engine.Video;

/// <summary>The sampled frames of one video. The caller owns it and disposes it (the tensor is not in any
/// dispose scope).</summary>
/// <param name="Frames">[N, 3, S, S] float32, RGB, normalised to [-1, 1] ((x/255 - 0.5) / 0.5).</param>
/// <param name="FrameIndices">Source frame index of each of the N frames (repeats for short videos).</param>
/// <param name="DecodedFrames">Distinct frames ffmpeg delivered; fewer than asked means a damaged tail
/// whose missing frames were filled with the last good one.</param>
public sealed record SampledFrames(torch.Tensor Frames, int[] FrameIndices, VideoInfo Video, int DecodedFrames) : IDisposable
{
    public void Dispose() => Frames.Dispose();
}
