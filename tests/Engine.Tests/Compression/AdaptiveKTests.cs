using TorchSharp;
using VQToken.Engine.Compression;
using static TorchSharp.torch;

namespace VQToken.Engine.Tests.Compression;

public class AdaptiveKTests
{
    [Theory]
    [InlineData(14, 0)]
    [InlineData(17, 1)]
    [InlineData(23, 2)]
    public void Centered_rule_picks_the_true_number_of_clusters_on_data_with_a_clear_elbow(int clusters, int seed)
    {
        var data = SyntheticClusters.Create(clusters, rows: 40 * clusters, dim: 48, noise: 0.8, seed: 100 + seed);
        using var scope = NewDisposeScope();
        var rows = KMeans.NormalizeRows(tensor(data.Rows));

        using var fit = AdaptiveK.Fit(rows, new AdaptiveKOptions(MinK: 12, MaxK: 32, Seed: (ulong)seed, Indexing: ElbowIndexing.Centered));

        Assert.Equal(clusters, fit.K);
        Assert.Equal(21, fit.Distortions.Count);
        double agreement = ClusterAgreement.AdjustedRandIndex(KMeansTests.ToLabels(fit.Fit.Labels), data.Truth);
        Assert.True(agreement >= 0.98, $"adjusted Rand index {agreement:F3}");
    }

    [Fact]
    public void Adaptive_never_returns_fewer_than_MinK_clusters()
    {
        var data = SyntheticClusters.Create(clusters: 3, rows: 300, dim: 32, noise: 0.5, seed: 9);
        using var scope = NewDisposeScope();
        var rows = KMeans.NormalizeRows(tensor(data.Rows));

        using var fit = AdaptiveK.Fit(rows, new AdaptiveKOptions(MinK: 12, MaxK: 20));

        Assert.InRange(fit.K, 12, 20);
        Assert.Equal(fit.K, fit.Fit.K);
    }

    [Fact]
    public void Adaptive_stops_growing_when_rows_repeat()
    {
        using var scope = NewDisposeScope();
        var distinct = KMeans.NormalizeRows(randn([4, 8], generator: new Generator(5)));
        var rows = distinct.repeat(25, 1); // 100 rows, 4 distinct values

        using var fit = AdaptiveK.Fit(rows, new AdaptiveKOptions(MinK: 2, MaxK: 12));

        Assert.True(fit.Distortions.Count < 11, $"curve of {fit.Distortions.Count} points: {string.Join(" ", fit.Distortions)}");
        Assert.InRange(fit.K, 2, 2 + fit.Distortions.Count - 1);
        Assert.True(fit.Distortions[^1] < 1e-3, $"last distortion {fit.Distortions[^1]}");
    }

    [Fact]
    public void Same_seed_gives_the_same_choice_and_fit()
    {
        var data = SyntheticClusters.Create(clusters: 15, rows: 450, dim: 32, noise: 1.2, seed: 4);
        using var scope = NewDisposeScope();
        var rows = KMeans.NormalizeRows(tensor(data.Rows));

        using var first = AdaptiveK.Fit(rows, new AdaptiveKOptions(Seed: 11));
        using var second = AdaptiveK.Fit(rows, new AdaptiveKOptions(Seed: 11));

        Assert.Equal(first.K, second.K);
        Assert.Equal(first.Distortions, second.Distortions);
        Assert.True(first.Fit.Labels.eq(second.Fit.Labels).all().item<bool>());
    }

    [Fact]
    public void Adaptive_leaves_no_live_tensors_behind()
    {
        var data = SyntheticClusters.Create(clusters: 13, rows: 260, dim: 16, noise: 0.8, seed: 2);
        using var rows = KMeans.NormalizeRows(tensor(data.Rows));
        long before = DisposeScopeManager.Statistics.ThreadTotalLiveCount;

        AdaptiveK.Fit(rows).Dispose();

        Assert.Equal(before, DisposeScopeManager.Statistics.ThreadTotalLiveCount);
    }
}
