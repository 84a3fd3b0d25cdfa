using TorchSharp;
using VQToken.Engine.Compression;
using static TorchSharp.torch;

namespace VQToken.Engine.Tests.Compression;

/// <summary>Long videos fit coarse to fine (a random sample first, then all rows): as good as fitting every row.</summary>
public class SampledFitTests
{
    [Fact]
    public void Sampled_fixed_fit_is_as_good_as_the_all_rows_fit_over_seeds_and_reproducible()
    {
        var data = SyntheticClusters.Create(clusters: 24, rows: 12_000, dim: 32, noise: 0.9, seed: 41);
        using var scope = NewDisposeScope();
        var rows = KMeans.NormalizeRows(tensor(data.Rows));

        // Both land in seed-dependent local minima; compare the mean inertia over six seeds.
        double all = 0, sampled = 0;
        for (ulong seed = 0; seed < 6; seed++)
        {
            using var a = KMeans.Fit(rows, 24, new KMeansOptions(Seed: seed, SampleRows: 0));
            using var b = KMeans.Fit(rows, 24, new KMeansOptions(Seed: seed, SampleRows: 2_000, FullIterations: 5));
            all += KMeans.CosineInertia(rows, a.Labels, 24) / 6;
            sampled += KMeans.CosineInertia(rows, b.Labels, 24) / 6;
            Assert.True(b.Iterations <= 5, $"{b.Iterations} all-rows iterations");
            Assert.Equal(12_000, b.Labels.shape[0]);
        }
        Assert.True(sampled <= all * 1.02, $"sampled {sampled:F2} vs all rows {all:F2} (mean of 6 seeds)");

        using var once = KMeans.Fit(rows, 24, new KMeansOptions(Seed: 3, SampleRows: 2_000));
        using var again = KMeans.Fit(rows, 24, new KMeansOptions(Seed: 3, SampleRows: 2_000));
        Assert.Equal(KMeansTests.ToLabels(once.Labels), KMeansTests.ToLabels(again.Labels));
    }

    [Fact]
    public void Sampled_adaptive_fit_picks_the_same_K_and_estimates_the_all_rows_curve()
    {
        var data = SyntheticClusters.Create(clusters: 23, rows: 12_000, dim: 32, noise: 0.8, seed: 42);
        using var scope = NewDisposeScope();
        var rows = KMeans.NormalizeRows(tensor(data.Rows));

        using var all = AdaptiveK.Fit(rows, new AdaptiveKOptions(12, 32, Seed: 1, Indexing: ElbowIndexing.Centered, SampleRows: 0));
        using var sampled = AdaptiveK.Fit(rows, new AdaptiveKOptions(12, 32, Seed: 1, Indexing: ElbowIndexing.Centered, SampleRows: 3_000));

        Assert.Equal(23, all.K);
        Assert.Equal(all.K, sampled.K);
        for (int i = 0; i < all.Distortions.Count; i++)   // the scaled sample curve estimates the all-rows quantity
            Assert.InRange(sampled.Distortions[i] / all.Distortions[i], 0.9, 1.1);
        Assert.Equal(12_000, sampled.Fit.Labels.shape[0]);
        Assert.True(KMeans.CosineInertia(rows, sampled.Fit.Labels, sampled.K) <= KMeans.CosineInertia(rows, all.Fit.Labels, all.K) * 1.005);
    }
}
