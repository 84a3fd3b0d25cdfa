namespace VQToken.Engine.Compression;

/// <summary>
/// The elbow rule of the adaptive mode: given distortions D(K) for K = Kmin..Kmax, take the largest
/// second difference D(K−1) − 2·D(K) + D(K+1) (first one on ties) and map it to a K, never below Kmin
/// (by default the official arithmetic, <see cref="ElbowIndexing.Official"/>).
/// </summary>
public static class ElbowRule
{
    /// <summary>Chooses K from a distortion curve.</summary>
    /// <param name="distortions">distortions[i] is the distortion of the fit with K = minK + i.</param>
    /// <param name="minK">The K of the first entry, also the smallest K returned.</param>
    /// <param name="indexing">How the argmax becomes a K (<see cref="ElbowIndexing"/>).</param>
    /// <returns>A K in [minK, minK + distortions.Count − 1]; minK when the curve has fewer than 3 points.</returns>
    public static int Select(IReadOnlyList<double> distortions, int minK, ElbowIndexing indexing = ElbowIndexing.Official)
    {
        ArgumentNullException.ThrowIfNull(distortions);
        if (distortions.Count < 3) return minK;
        int best = 0;
        double bestValue = double.NegativeInfinity;
        for (int i = 0; i + 2 < distortions.Count; i++)
        {
            double second = distortions[i] - 2 * distortions[i + 1] + distortions[i + 2];
            if (second > bestValue)
            {
                bestValue = second;
                best = i;
            }
        }
        int maxK = minK + distortions.Count - 1;
        return indexing switch
        {
            ElbowIndexing.Centered => minK + 1 + best,
            ElbowIndexing.Official => Math.Min(maxK, Math.Max(best + 4, minK)),
            _ => throw new ArgumentOutOfRangeException(nameof(indexing)),
        };
    }
}
