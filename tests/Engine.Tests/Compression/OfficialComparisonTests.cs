using TorchSharp;
using VQToken.Engine.Compression;
using VQToken.Engine.Compression.Reference;
using static TorchSharp.torch;

namespace VQToken.Engine.Tests.Compression;

/// <summary>Quality against the re-implementation of the official clustering (same data, same seeds).</summary>
public class OfficialComparisonTests
{
    [Fact]
    public void Fixed_K_inertia_is_no_worse_than_the_official_algorithm()
    {
        var data = SyntheticClusters.Create(clusters: 20, rows: 1000, dim: 48, noise: 1.0, seed: 21);
        using var scope = NewDisposeScope();
        var rows = KMeans.NormalizeRows(tensor(data.Rows));

        double ours = 0, official = 0;
        for (int seed = 0; seed < 3; seed++)
        {
            using var fit = KMeans.Fit(rows, 24, new KMeansOptions(Seed: (ulong)seed));
            ours += KMeans.CosineInertia(rows, fit.Labels, 24);
            using var generator = new Generator((ulong)seed);
            var (labels, _, _) = OfficialClustering.Fit(rows, 24, 300, 1e-4, generator);
            official += KMeans.CosineInertia(rows, labels, 24);
        }

        Assert.True(ours <= official * 1.001, $"ours {ours / 3:F2} vs official {official / 3:F2} (mean of 3 seeds)");
    }

    [Fact]
    public void Adaptive_choice_matches_the_official_curve_on_a_clear_elbow()
    {
        var data = SyntheticClusters.Create(clusters: 15, rows: 600, dim: 32, noise: 0.6, seed: 8);
        using var scope = NewDisposeScope();
        var rows = KMeans.NormalizeRows(tensor(data.Rows));
        using var generator = new Generator(1);

        var (_, _, officialK, curve) = OfficialClustering.FitAdaptive(rows, 12, 20, ElbowIndexing.Centered, generator);
        using var ours = AdaptiveK.Fit(rows, new AdaptiveKOptions(12, 20, Seed: 1));

        Assert.Equal(9, curve.Length);
        Assert.Equal(15, ours.K);
        Assert.Equal(officialK, ours.K);
    }
}
