namespace VQToken.Engine.Compression;

/// <summary>The outcome of the adaptive mode: the chosen K, the curve it was chosen from and the fit
/// at that K. Dispose it to free the fit's tensors.</summary>
public sealed class AdaptiveKFit(int k, IReadOnlyList<double> distortions, int minK, KMeansFit fit) : IDisposable
{
    /// <summary>The chosen number of clusters.</summary>
    public int K { get; } = k;

    /// <summary>Distortion of the warm-started fit for each K = <see cref="MinK"/> + i.</summary>
    public IReadOnlyList<double> Distortions { get; } = distortions;

    /// <summary>The K of <c>Distortions[0]</c>.</summary>
    public int MinK { get; } = minK;

    /// <summary>The polished fit at <see cref="K"/>.</summary>
    public KMeansFit Fit { get; } = fit;

    public void Dispose() => Fit.Dispose();
}
