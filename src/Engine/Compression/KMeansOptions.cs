namespace VQToken.Engine.Compression;

/// <summary>Settings of one K-means fit (see <see cref="KMeans"/>).</summary>
/// <param name="MaxIterations">Cap on Lloyd iterations (assignment + mean update).</param>
/// <param name="Tolerance">Stop once the Frobenius norm of the centroid shift of one iteration falls below
/// this (the official code uses 1e-4).</param>
/// <param name="Seed">Seed of the k-means++ sampling; the same seed on the same data gives the same fit.</param>
/// <param name="InitCandidates">Rows drawn per k-means++ step, the one lowering the total squared distance
/// most kept (greedy k-means++). 1 is the official single draw; more costs little (each step reads the
/// rows once either way) and avoids most seedings that put two centres in one cluster and none in another.</param>
/// <param name="SampleRows">Above this many rows (a long video: 32,768 rows are 45 frames) the fit is coarse to fine:
/// seeding and Lloyd run to convergence on this many rows drawn at random, then at most
/// <paramref name="FullIterations"/> Lloyd iterations on all rows. 0 fits every row from the start.</param>
/// <param name="FullIterations">Cap on the all-rows iterations after a sampled fit.</param>
public sealed record KMeansOptions(int MaxIterations = 50, double Tolerance = 1e-4, ulong Seed = 0, int InitCandidates = 8,
    int SampleRows = 32_768, int FullIterations = 5)
{
    /// <summary>Throws when a setting is out of range.</summary>
    public void Validate()
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(MaxIterations, 1, nameof(MaxIterations));
        ArgumentOutOfRangeException.ThrowIfNegative(Tolerance, nameof(Tolerance));
        ArgumentOutOfRangeException.ThrowIfLessThan(InitCandidates, 1, nameof(InitCandidates));
        ArgumentOutOfRangeException.ThrowIfNegative(SampleRows, nameof(SampleRows));
        ArgumentOutOfRangeException.ThrowIfLessThan(FullIterations, 1, nameof(FullIterations));
    }
}
