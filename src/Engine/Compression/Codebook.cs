using TorchSharp;
using static TorchSharp.torch;

namespace VQToken.Engine.Compression;

/// <summary>The codebook B of the paper (Eq. 4): one row per cluster, the mean of the L2-normalised
/// token embeddings assigned to it. Empty clusters get a zero row, as in the official code.</summary>
public static class Codebook
{
    /// <summary>Builds B [K, D] (float32) from tokens and a fixed assignment. Deterministic.</summary>
    /// <param name="tokens">[T, P, D] projected frame tokens, or already flat [N, D]; not necessarily normalised.</param>
    /// <param name="labels">Cluster id per token: [T, P] or [N], integer, each in [0, K).</param>
    /// <param name="k">Number of clusters K (rows of B).</param>
    public static Tensor FromLabels(Tensor tokens, Tensor labels, int k)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(k, 1);
        using var scope = NewDisposeScope();
        var rows = KMeans.NormalizeRows(Flatten(tokens));
        var flatLabels = labels.reshape(-1).to(ScalarType.Int64);
        if (flatLabels.shape[0] != rows.shape[0])
            throw new ArgumentException($"{flatLabels.shape[0]} labels for {rows.shape[0]} tokens", nameof(labels));
        if (flatLabels.shape[0] > 0 && (flatLabels.min().item<long>() < 0 || flatLabels.max().item<long>() >= k))
            throw new ArgumentException($"labels must lie in [0, {k})", nameof(labels));
        var (sums, counts) = SumsAndCounts(rows, flatLabels, k);
        return MeansOf(sums, counts).MoveToOuterDisposeScope();
    }

    /// <summary>[T, P, D] or [N, D] to float32 [N, D].</summary>
    internal static Tensor Flatten(Tensor tokens)
    {
        if (tokens.dim() is not (2 or 3))
            throw new ArgumentException($"expected [T, P, D] or [N, D] tokens, got {tokens.dim()} dimensions", nameof(tokens));
        return tokens.reshape(-1, tokens.shape[^1]).to(ScalarType.Float32);
    }

    /// <summary>Per-cluster sums [K, D] and counts [K] (float32) of rows under labels, vectorised; a long video's rows
    /// a block at a time (<see cref="KMeans.AssignBlockRows"/>), as index_add's own temporaries grow with the rows.</summary>
    internal static (Tensor Sums, Tensor Counts) SumsAndCounts(Tensor rows, Tensor labels, int k)
    {
        var sums = zeros(k, rows.shape[1], dtype: ScalarType.Float32, device: rows.device);
        long n = rows.shape[0];
        if (n <= KMeans.AssignBlockRows) sums.index_add_(0, labels, rows, 1);
        else
            for (long start = 0; start < n; start += KMeans.AssignBlockRows)
            {
                using var block = NewDisposeScope();
                long length = Math.Min(KMeans.AssignBlockRows, n - start);
                sums.index_add_(0, labels.narrow(0, start, length), rows.narrow(0, start, length), 1);
            }
        var counts = labels.bincount(null, k).to(ScalarType.Float32);
        return (sums, counts);
    }

    /// <summary>Sums / counts, with zero rows for empty clusters.</summary>
    internal static Tensor MeansOf(Tensor sums, Tensor counts) => sums / counts.clamp_min(1).unsqueeze(1);
}
