using TorchSharp;
using VQToken.Engine.Compression;
using static TorchSharp.torch;

namespace VQToken.Testing;

/// <summary>
/// Benchmark baseline, not for serving: a step-by-step re-implementation of the official VQToken
/// clustering (KMeansTorch / AdaptiveKMeansTorch in VQToken/cluster.py), kept deliberately unoptimised
/// so time and quality can be compared with <see cref="KMeans"/> and <see cref="AdaptiveK"/>:
/// k-means++ with a fresh cdist to all chosen centres per step, cosine assignment re-normalising X and
/// the centroids every iteration, a per-cluster masked mean (old centroid kept when empty), stop on
/// |C − C'| &lt; tol, and in adaptive mode a fresh fit for every K plus a final refit of the chosen K.
/// Randomness comes from a seeded generator instead of the global one.
/// </summary>
public static class OfficialClustering
{
    /// <summary>Official fixed-K fit of L2-normalised rows [N, D]: returns labels [N] (int64) and
    /// centroids [K, D], owned by the caller's dispose scope.</summary>
    public static (Tensor Labels, Tensor Centroids, int Iterations) Fit(Tensor rows, int k, int maxIterations, double tolerance, Generator generator)
    {
        using var scope = NewDisposeScope();
        var centroids = Initialise(rows, k, generator);
        Tensor labels = null!;
        int iterations = 0;
        for (int it = 0; it < maxIterations; it++)
        {
            iterations++;
            var x = rows / rows.norm(1, keepdim: true);
            var c = centroids / centroids.norm(1, keepdim: true);
            labels = (1 - x.matmul(c.t())).argmin(1);
            var updated = new Tensor[k];
            for (int i = 0; i < k; i++)
            {
                var members = rows.index_select(0, labels.eq(i).nonzero().squeeze(1));
                updated[i] = members.shape[0] == 0 ? centroids[i] : members.mean([0]);
            }
            var next = stack(updated);
            if ((centroids - next).norm().item<float>() < tolerance) break;
            centroids = next;
        }
        return (labels.MoveToOuterDisposeScope(), centroids.MoveToOuterDisposeScope(), iterations);
    }

    /// <summary>Official adaptive mode: a fresh <see cref="Fit"/> (cap 100) for every K in
    /// minK..maxK, distortion Σ|x − c|², K by <see cref="ElbowRule"/>, then a fresh fit at that K.</summary>
    public static (Tensor Labels, Tensor Centroids, int K, double[] Distortions) FitAdaptive(
        Tensor rows, int minK, int maxK, ElbowIndexing indexing, Generator generator, int maxIterations = 100, double tolerance = 1e-4)
    {
        using var scope = NewDisposeScope();
        var distortions = new List<double>();
        for (int k = minK; k <= maxK; k++)
        {
            using var perK = NewDisposeScope();
            var (labels, centroids, _) = Fit(rows, k, maxIterations, tolerance, generator);
            distortions.Add((rows - centroids.index_select(0, labels)).pow(2).sum().item<float>());
        }
        int chosen = ElbowRule.Select(distortions, minK, indexing);
        var (finalLabels, finalCentroids, _) = Fit(rows, chosen, maxIterations, tolerance, generator);
        return (finalLabels.MoveToOuterDisposeScope(), finalCentroids.MoveToOuterDisposeScope(), chosen, distortions.ToArray());
    }

    /// <summary>k-means++ as written officially: cdist to the stack of chosen centres at every step.</summary>
    private static Tensor Initialise(Tensor rows, int k, Generator generator)
    {
        long n = rows.shape[0];
        var chosen = new List<Tensor> { rows[randint(0, n, [1], generator: generator).item<long>()] };
        for (int j = 1; j < k; j++)
        {
            var nearest = cdist(rows, stack(chosen), 2).min(1).values;
            var weights = nearest.pow(2).clamp_min(0) + 1e-6;
            var probabilities = weights / weights.sum();
            chosen.Add(rows[probabilities.multinomial(1, false, generator).item<long>()]);
        }
        return stack(chosen);
    }
}
