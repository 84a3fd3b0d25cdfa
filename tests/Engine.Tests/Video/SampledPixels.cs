using VQToken.Engine.Runtime;
using VQToken.Ingestion;
using static TorchSharp.torch;

namespace VQToken.Engine.Tests.Video;

internal static class SampledPixels
{
    /// <summary>The vision tower's input [N, 3, S, S] in [-1, 1] for sampled frames (a new tensor in the caller's dispose scope).</summary>
    public static Tensor Pixels(this SampledFrames sampled) => sampled.Rgb.ToPixels(0, sampled.Rgb.Count);
}
