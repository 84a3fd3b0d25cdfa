namespace VQToken.Engine.Compression;

/// <summary>Settings of the adaptive-length mode (see <see cref="AdaptiveK"/>).</summary>
/// <param name="MinK">Smallest K tried and returned (official: 12).</param>
/// <param name="MaxK">Largest K tried (official: 32 in the released evaluation).</param>
/// <param name="CurveIterations">Lloyd iteration cap of each warm-started fit on the distortion curve.</param>
/// <param name="FinalIterations">Lloyd iteration cap when polishing the chosen K.</param>
/// <param name="Tolerance">Centroid-shift stopping tolerance (official: 1e-4).</param>
/// <param name="Seed">Seed of the k-means++ sampling.</param>
/// <param name="Indexing">Elbow-to-K mapping (<see cref="ElbowIndexing"/>).</param>
/// <param name="SampleRows">Above this many rows the curve is fitted on this many rows drawn at random (its values
/// scaled by rows / sample to estimate the all-rows distortion) and the chosen K is polished on all rows for at
/// most <paramref name="FullIterations"/> iterations; 0 fits every row throughout.</param>
/// <param name="FullIterations">Cap on the all-rows polish after a sampled curve.</param>
public sealed record AdaptiveKOptions(
    int MinK = 12,
    int MaxK = 32,
    int CurveIterations = 8,
    int FinalIterations = 50,
    double Tolerance = 1e-4,
    ulong Seed = 0,
    ElbowIndexing Indexing = ElbowIndexing.Official,
    int SampleRows = 32_768,
    int FullIterations = 5)
{
    /// <summary>Throws when a setting is out of range.</summary>
    public void Validate()
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(MinK, 1, nameof(MinK));
        ArgumentOutOfRangeException.ThrowIfLessThan(MaxK, MinK, nameof(MaxK));
        ArgumentOutOfRangeException.ThrowIfLessThan(CurveIterations, 1, nameof(CurveIterations));
        ArgumentOutOfRangeException.ThrowIfLessThan(FinalIterations, 1, nameof(FinalIterations));
        ArgumentOutOfRangeException.ThrowIfNegative(Tolerance, nameof(Tolerance));
        ArgumentOutOfRangeException.ThrowIfNegative(SampleRows, nameof(SampleRows));
        ArgumentOutOfRangeException.ThrowIfLessThan(FullIterations, 1, nameof(FullIterations));
    }
}
