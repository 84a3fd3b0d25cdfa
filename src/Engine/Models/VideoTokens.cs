using static TorchSharp.torch;

namespace VQToken.Engine.Models;

/// <summary>The baseline LLaVA-OneVision video token path ("full" mode): each frame's g×g grid is
/// bilinearly resized to ceil(g/2)×ceil(g/2), all frames are flattened and ONE
/// <c>image_newline</c> token is appended. 32 frames of the real model → 32·196 + 1 = 6273 tokens.</summary>
public static class VideoTokens
{
    /// <summary>projected [T, P, D] (P = g²) → [T·ceil(g/stride)² + 1, D].</summary>
    public static Tensor PooledWithNewline(Tensor projected, Tensor imageNewline, int stride = 2)
    {
        using var scope = NewDisposeScope();
        long t = projected.shape[0], p = projected.shape[1], d = projected.shape[2];
        long g = (long)Math.Round(Math.Sqrt(p));
        if (g * g != p) throw new ArgumentException($"frame token count {p} is not a square grid");
        long pooled = (g + stride - 1) / stride;
        var grid = projected.view(t, g, g, d).permute(0, 3, 1, 2);                      // [T, D, g, g]
        var resized = nn.functional.interpolate(grid, [pooled, pooled],
            mode: InterpolationMode.Bilinear, align_corners: false);                       // [T, D, g', g']
        var tokens = resized.permute(0, 2, 3, 1).reshape(t * pooled * pooled, d);        // [T·g'², D]
        return cat([tokens, imageNewline.view(1, d).to_type(tokens.dtype)], 0).MoveToOuterDisposeScope();
    }

    /// <summary>Visual tokens the baseline feeds the LLM for <paramref name="frames"/> frames.</summary>
    public static long FullTokenCount(int frames, int grid, int stride = 2)
    {
        long pooled = (grid + stride - 1) / stride;
        return frames * pooled * pooled + 1;
    }
}
