using TorchSharp;
using VQToken.Ingestion;

namespace VQToken.Engine.Runtime;

/// <summary>Ingestion's RGB bytes as the vision tower's input; the one place frames become a tensor.</summary>
public static class RgbFramesPixels
{
    /// <summary>Frames [from, from+count) as [count, 3, S, S] float32: (x/255 − 0.5)/0.5, i.e. in [-1, 1]
    /// (SigLIP's normalisation), on <paramref name="device"/>.</summary>
    public static torch.Tensor ToPixels(this RgbFrames frames, int from, int count, torch.Device? device = null)
    {
        using var scope = torch.NewDisposeScope();
        long frameBytes = (long)frames.Size * frames.Size * 3;
        // Copied straight into native memory: no managed array per batch for the garbage collector to hold on to.
        var hwc = torch.empty([count, frames.Size, frames.Size, 3], torch.ScalarType.Byte);
        frames.Data.AsSpan(checked((int)(from * frameBytes)), checked((int)(count * frameBytes))).CopyTo(hwc.bytes);
        hwc = hwc.to(device ?? torch.CPU);
        // The same operations as x.div(255).sub(0.5).div(0.5), in place: one float copy of the batch instead of four.
        return hwc.permute(0, 3, 1, 2).to_type(torch.ScalarType.Float32).div_(255.0).sub_(0.5).div_(0.5).MoveToOuterDisposeScope();
    }
}
