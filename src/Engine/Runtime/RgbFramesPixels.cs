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
        var bytes = new byte[count * frameBytes];
        Array.Copy(frames.Data, from * frameBytes, bytes, 0, bytes.Length);
        var hwc = torch.tensor(bytes, [count, frames.Size, frames.Size, 3]).to(device ?? torch.CPU);
        return hwc.permute(0, 3, 1, 2).to_type(torch.ScalarType.Float32).div(255.0).sub(0.5).div(0.5).MoveToOuterDisposeScope();
    }
}
