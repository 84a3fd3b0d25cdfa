using TorchSharp;
using static TorchSharp.torch;

namespace VQToken.Engine.Compression;

/// <summary>The outcome of one K-means fit. Owns its tensors: dispose it (or let the caller's dispose
/// scope do it).</summary>
public sealed class KMeansFit : IDisposable
{
    internal KMeansFit(Tensor labels, Tensor centroids, int iterations, bool converged, double distortion, int reseeded, Tensor clusterDistortions)
    {
        Labels = labels;
        Centroids = centroids;
        Iterations = iterations;
        Converged = converged;
        Distortion = distortion;
        ReseededClusters = reseeded;
        ClusterDistortions = clusterDistortions;
    }

    /// <summary>Cluster id of every row, [N] int64.</summary>
    public Tensor Labels { get; }

    /// <summary>[K, D] float32: mean of the (normalised) rows of each cluster in the final assignment,
    /// NOT re-normalised (as the official code); assignment uses their direction only.</summary>
    public Tensor Centroids { get; }

    /// <summary>Number of clusters.</summary>
    public int K => (int)Centroids.shape[0];

    /// <summary>Lloyd iterations run.</summary>
    public int Iterations { get; }

    /// <summary>True when the centroid shift fell below the tolerance before the iteration cap.</summary>
    public bool Converged { get; }

    /// <summary>Sum over rows of the squared Euclidean distance to the mean of its cluster, the
    /// quantity the official adaptive mode feeds to its elbow rule.</summary>
    public double Distortion { get; }

    /// <summary>Distortion of each cluster, float64 [K] (sums to <see cref="Distortion"/>).</summary>
    internal Tensor ClusterDistortions { get; }

    /// <summary>How many times an empty cluster was re-seeded during the fit.</summary>
    public int ReseededClusters { get; }

    /// <summary>Moves the tensors out of the current dispose scope (to the caller's).</summary>
    public KMeansFit MoveToOuterDisposeScope()
    {
        Labels.MoveToOuterDisposeScope();
        Centroids.MoveToOuterDisposeScope();
        ClusterDistortions.MoveToOuterDisposeScope();
        return this;
    }

    /// <summary>Takes the tensors out of every dispose scope: the caller disposes this fit.</summary>
    public KMeansFit DetachFromDisposeScope()
    {
        Labels.DetachFromDisposeScope();
        Centroids.DetachFromDisposeScope();
        ClusterDistortions.DetachFromDisposeScope();
        return this;
    }

    public void Dispose()
    {
        Labels.Dispose();
        Centroids.Dispose();
        ClusterDistortions.Dispose();
    }
}
