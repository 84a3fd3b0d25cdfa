using TorchSharp;
using VQToken.Engine.Compression;
using static TorchSharp.torch;

namespace VQToken.Engine.Tests.Compression;

public class KMeansTests
{
    [Theory]
    [InlineData("parity-a", 5)]
    [InlineData("parity-a", 8)]
    [InlineData("parity-b", 4)]
    [InlineData("parity-b", 10)]
    public void Fit_on_fixture_features_is_within_5_percent_of_the_reference_inertia(string fixture, int k)
    {
        using var scope = NewDisposeScope();
        var projected = Fixtures.Read(fixture, "expected", "projected");
        var flat = projected.reshape(-1, projected.shape[^1]);
        var managed = ToArray(flat);
        var rows = KMeans.NormalizeRows(flat);

        double ours = 0, reference = 0;
        for (int seed = 0; seed < 5; seed++)
        {
            using var fit = KMeans.Fit(rows, k, new KMeansOptions(Seed: (ulong)seed));
            ours += KMeans.CosineInertia(flat, fit.Labels, k);
            reference += ReferenceLloyd.CosineInertia(managed, ReferenceLloyd.Fit(managed, k, seed), k);
        }

        Assert.True(ours <= 1.05 * reference, $"ours {ours / 5:F4} vs reference {reference / 5:F4} (mean over 5 seeds)");
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(4)]
    public void Fit_recovers_known_clusters_and_matches_the_reference_inertia(int seed)
    {
        var data = SyntheticClusters.Create(clusters: 8, rows: 800, dim: 64, noise: 1.0, seed: 7 + seed);
        using var scope = NewDisposeScope();
        var rows = KMeans.NormalizeRows(tensor(data.Rows));

        using var fit = KMeans.Fit(rows, 8, new KMeansOptions(Seed: (ulong)seed));

        double agreement = ClusterAgreement.AdjustedRandIndex(ToLabels(fit.Labels), data.Truth);
        Assert.True(agreement >= 0.98, $"adjusted Rand index {agreement:F3}");
        double ours = KMeans.CosineInertia(rows, fit.Labels, 8);
        double reference = ReferenceLloyd.CosineInertia(data.Rows, ReferenceLloyd.Fit(data.Rows, 8, seed), 8);
        Assert.True(ours <= 1.05 * reference, $"ours {ours:F3} vs reference {reference:F3}");
        Assert.True(fit.Converged);
    }

    [Fact]
    public void Same_seed_gives_the_same_fit()
    {
        var data = SyntheticClusters.Create(clusters: 6, rows: 300, dim: 32, noise: 2.0, seed: 1);
        using var scope = NewDisposeScope();
        var rows = KMeans.NormalizeRows(tensor(data.Rows));

        using var first = KMeans.Fit(rows, 6, new KMeansOptions(Seed: 42));
        using var second = KMeans.Fit(rows, 6, new KMeansOptions(Seed: 42));

        Assert.True(first.Labels.eq(second.Labels).all().item<bool>());
        Assert.True(first.Centroids.eq(second.Centroids).all().item<bool>());
        Assert.Equal(first.Iterations, second.Iterations);
    }

    [Fact]
    public void Empty_cluster_is_reseeded_instead_of_left_dead()
    {
        using var scope = NewDisposeScope();
        // two groups of rows around +x and +y; the third start centre points away from all of them
        var rows = KMeans.NormalizeRows(tensor(new float[]
        {
            1, 0.1f, 0, 1, -0.1f, 0, 1, 0, 0.1f, 1, 0, -0.1f,
            0.1f, 1, 0, -0.1f, 1, 0, 0, 1, 0.1f, 0, 1, -0.1f,
        }, [8, 3]));
        var start = tensor(new float[] { 1, 0, 0, 0, 1, 0, -1, -1, 0 }, [3, 3]);

        using var fit = KMeans.Refine(rows, start);

        Assert.True(fit.ReseededClusters >= 1);
        var counts = fit.Labels.bincount(null, 3);
        Assert.True(counts.gt(0).all().item<bool>(), "every cluster ends with at least one row");
    }

    [Fact]
    public void Cosine_inertia_matches_a_managed_computation()
    {
        var data = SyntheticClusters.Create(clusters: 4, rows: 120, dim: 16, noise: 1.5, seed: 5);
        var labels = Enumerable.Range(0, 120).Select(i => (i * 7) % 5).ToArray();
        using var scope = NewDisposeScope();

        double ours = KMeans.CosineInertia(tensor(data.Rows), tensor(labels.Select(l => (long)l).ToArray()), 5);

        Assert.Equal(ReferenceLloyd.CosineInertia(data.Rows, labels, 5), ours, 3);
    }

    [Fact]
    public void Fit_leaves_no_live_tensors_behind()
    {
        var data = SyntheticClusters.Create(clusters: 5, rows: 200, dim: 16, noise: 1.0, seed: 2);
        using var rows = KMeans.NormalizeRows(tensor(data.Rows));
        long before = DisposeScopeManager.Statistics.ThreadTotalLiveCount;

        KMeans.Fit(rows, 5).Dispose();

        Assert.Equal(before, DisposeScopeManager.Statistics.ThreadTotalLiveCount);
    }

    [Fact]
    public void K_larger_than_the_row_count_is_rejected()
    {
        using var rows = ones(3, 4);
        Assert.Throws<ArgumentOutOfRangeException>(() => KMeans.Fit(rows, 4));
    }

    internal static float[,] ToArray(Tensor flat)
    {
        var values = flat.to(ScalarType.Float32).contiguous().data<float>().ToArray();
        int n = (int)flat.shape[0], dim = (int)flat.shape[1];
        var result = new float[n, dim];
        Buffer.BlockCopy(values, 0, result, 0, values.Length * sizeof(float));
        return result;
    }

    internal static int[] ToLabels(Tensor labels) => labels.to(ScalarType.Int32).contiguous().data<int>().ToArray();
}
