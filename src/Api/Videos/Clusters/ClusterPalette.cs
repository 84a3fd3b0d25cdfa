using SkiaSharp;

namespace VQToken.Api.Videos.Clusters;

/// <summary>One colour per codebook entry, as in the paper's Fig. 2: hues step by the golden angle so
/// neighbouring ids look far apart, and saturation/brightness cycle so ids whose hues come close still
/// differ.</summary>
public static class ClusterPalette
{
    private const double GoldenFraction = 0.6180339887498949;
    private static readonly float[] Saturations = [90f, 65f, 100f];
    private static readonly float[] Values = [100f, 80f, 90f, 70f];

    public static SKColor Color(int clusterId)
    {
        double hue = clusterId * GoldenFraction % 1.0 * 360.0;
        return SKColor.FromHsv((float)hue, Saturations[clusterId % Saturations.Length], Values[clusterId / Saturations.Length % Values.Length]);
    }
}
