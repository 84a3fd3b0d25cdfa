using TorchSharp;
using static TorchSharp.torch;

namespace VQToken.Engine.Compression;

/// <summary>
/// The VQToken discrete process for one video: projected, unpooled frame tokens [T, P, D] →
/// L2-normalised rows → K-means (fixed K or adaptive K) → codebook B [K, D] + index map M [T, g, g].
/// </summary>
public static class VideoCompressor
{
    /// <summary>Compresses one video's projected tokens [T, P, D] (P = g·g, any float dtype).</summary>
    public static CompressedVideo Compress(Tensor projected, CompressionSettings settings) => Compress(projected, settings, out _);

    /// <summary>As <see cref="Compress(Tensor, CompressionSettings)"/>; <paramref name="curve"/> receives the
    /// adaptive mode's distortion curve (one value per K, Kmin first; null in fixed mode).</summary>
    public static CompressedVideo Compress(Tensor projected, CompressionSettings settings, out IReadOnlyList<double>? curve)
    {
        ArgumentNullException.ThrowIfNull(settings);
        settings.Validate();
        if (projected.dim() != 3)
            throw new ArgumentException($"expected projected tokens [T, P, D], got {projected.dim()} dimensions", nameof(projected));
        int frames = (int)projected.shape[0], tokensPerFrame = (int)projected.shape[1];
        int grid = (int)Math.Round(Math.Sqrt(tokensPerFrame));
        if (grid * grid != tokensPerFrame)
            throw new ArgumentException($"{tokensPerFrame} tokens per frame is not a square grid", nameof(projected));
        if (frames * tokensPerFrame == 0)
            throw new ArgumentException("no tokens to compress", nameof(projected));

        using var scope = NewDisposeScope();
        var rows = KMeans.NormalizeRows(Codebook.Flatten(projected)); // [N, D]
        var fit = Cluster(rows, settings, out curve);
        var (sums, counts) = Codebook.SumsAndCounts(rows, fit.Labels, fit.K);
        var codebook = Codebook.MeansOf(sums, counts); // [K, D], zero rows for empty clusters
        return CompressedVideo.FromTensors(frames, grid, fit.Labels, codebook, settings);
    }

    /// <summary>Runs the K-means the settings ask for on normalised rows.</summary>
    internal static KMeansFit Cluster(Tensor rows, CompressionSettings settings, out IReadOnlyList<double>? curve)
    {
        curve = null;
        if (settings.Mode == CompressionMode.VQTokenFixed)
        {
            int k = (int)Math.Min(settings.K, rows.shape[0]);
            return KMeans.Fit(rows, k, new KMeansOptions(settings.MaxIterations, Seed: settings.Seed));
        }
        var adaptive = new AdaptiveKOptions(settings.MinK, settings.MaxK,
            FinalIterations: settings.MaxIterations, Seed: settings.Seed, Indexing: settings.Elbow);
        var chosen = AdaptiveK.Fit(rows, adaptive);
        curve = chosen.Distortions;
        return chosen.Fit;
    }
}
