using TorchSharp;
using static TorchSharp.torch;

namespace VQToken.Engine.Compression;

/// <summary>
/// Fixed-K K-means as the official VQToken code defines it, vectorised with TorchSharp:
/// k-means++ initialisation (sampling weight = squared Euclidean distance to the nearest chosen
/// centre + 1e-6; by default the greedy variant, see <see cref="KMeansOptions.InitCandidates"/>),
/// assignment by cosine distance (1 − x·c / |x||c|), update to the plain mean of the assigned
/// (normalised) rows, stop when the Frobenius norm of the centroid shift is below the
/// tolerance or at the iteration cap.
/// </summary>
/// <remarks>
/// Empty clusters: the official code keeps the old centroid, which lets a cluster stay dead for the
/// rest of the fit. Here an empty cluster is re-seeded to the row currently farthest (in cosine
/// distance) from its own centroid, one distinct row per empty cluster; this can only lower the
/// distortion. A cluster still empty in the final assignment (possible only with duplicate rows or
/// at the iteration cap) gives a zero codebook row, as in the official code.
/// Determinism: all randomness comes from one <see cref="Generator"/> seeded with
/// <see cref="KMeansOptions.Seed"/>, so a seed reproduces the fit on the same data and thread count.
/// </remarks>
public static class KMeans
{
    /// <summary>Epsilon added to the k-means++ weights (as the official code) so they never sum to zero.</summary>
    internal const double PlusPlusEpsilon = 1e-6;

    /// <summary>L2-normalises each row of [N, D] (zero rows stay zero).</summary>
    public static Tensor NormalizeRows(Tensor rows) => nn.functional.normalize(rows, p: 2, dim: 1, eps: 1e-12);

    /// <summary>Clusters rows [N, D] (float32, already L2-normalised: see <see cref="NormalizeRows"/>)
    /// into k clusters: k-means++ then Lloyd.</summary>
    public static KMeansFit Fit(Tensor rows, int k, KMeansOptions? options = null)
    {
        options ??= new KMeansOptions();
        options.Validate();
        ValidateRows(rows, k);
        return Slices.Run(FitSlices(rows, k, options));
    }

    /// <summary>Runs Lloyd iterations from given centroids [K, D] (a warm start). No randomness.</summary>
    public static KMeansFit Refine(Tensor rows, Tensor initialCentroids, KMeansOptions? options = null)
    {
        options ??= new KMeansOptions();
        options.Validate();
        ValidateRows(rows, (int)initialCentroids.shape[0]);
        return Slices.Run(LloydSlices(rows, initialCentroids, options.MaxIterations, options.Tolerance));
    }

    /// <summary><see cref="Refine"/> in slices, one Lloyd iteration each.</summary>
    internal static IEnumerable<KMeansFit?> RefineSlices(Tensor rows, Tensor initialCentroids, KMeansOptions options)
    {
        options.Validate();
        ValidateRows(rows, (int)initialCentroids.shape[0]);
        return LloydSlices(rows, initialCentroids, options.MaxIterations, options.Tolerance);
    }

    /// <summary><see cref="Fit"/> in slices (see <see cref="Slices"/>): k-means++ steps, then one Lloyd iteration per slice.</summary>
    internal static IEnumerable<KMeansFit?> FitSlices(Tensor rows, int k, KMeansOptions options)
    {
        using var generator = new Generator(options.Seed, rows.device);
        Tensor? initial = null, sample = null;
        try
        {
            sample = Sample(rows, options.SampleRows, k, generator);
            foreach (var slice in PlusPlusSlices(sample ?? rows, k, generator, options.InitCandidates))
            {
                if (slice is null) yield return null;
                else initial = slice.DetachFromDisposeScope();
            }
            if (sample is null)
            {
                foreach (var slice in LloydSlices(rows, initial!, options.MaxIterations, options.Tolerance)) yield return slice;
                yield break;
            }
            // Coarse to fine: converge on the sample, then refine on every row from there.
            KMeansFit? coarse = null;
            foreach (var slice in LloydSlices(sample, initial!, options.MaxIterations, options.Tolerance))
            {
                if (slice is null) yield return null;
                else coarse = slice.DetachFromDisposeScope();
            }
            initial!.Dispose();
            using (NewDisposeScope()) initial = coarse!.Centroids.clone().DetachFromDisposeScope();
            coarse.Dispose();
            sample.Dispose();   // not needed by the fine phase
            sample = null;
            yield return null;
            foreach (var slice in LloydSlices(rows, initial, options.FullIterations, options.Tolerance)) yield return slice;
        }
        finally
        {
            initial?.Dispose();
            sample?.Dispose();
        }
    }

    /// <summary>A seeded random subset of <paramref name="size"/> rows [S, D] (owned by the caller, in no dispose
    /// scope), or null when the rows are not more than that, sampling is off (0) or the subset could not hold
    /// <paramref name="k"/> clusters: the coarse phase of a long video's fit.</summary>
    internal static Tensor? Sample(Tensor rows, int size, int k, Generator generator)
    {
        long n = rows.shape[0];
        if (size <= 0 || n <= size || size < k) return null;
        using var scope = NewDisposeScope();
        return rows.index_select(0, randperm(n, generator: generator)[..size]).DetachFromDisposeScope();
    }

    /// <summary>
    /// Σ over rows of 1 − cos(row, centroid of its cluster), centroids being the normalised cluster
    /// means under <paramref name="labels"/>. Rows need not be normalised.
    /// </summary>
    public static double CosineInertia(Tensor rows, Tensor labels, int k)
    {
        using var scope = NewDisposeScope();
        var unit = NormalizeRows(Codebook.Flatten(rows));
        var flatLabels = labels.reshape(-1).to(ScalarType.Int64);
        var (sums, _) = Codebook.SumsAndCounts(unit, flatLabels, k);
        var directions = NormalizeRows(sums); // the mean and the sum point the same way
        var cosines = (unit * directions.index_select(0, flatLabels)).sum(1);
        return (1 - cosines).sum(ScalarType.Float64).item<double>();
    }

    /// <summary>
    /// k-means++ seeding: the first centre uniform, each next one drawn with weight (squared distance to
    /// the nearest centre so far) + ε. With <paramref name="candidates"/> &gt; 1 this is greedy
    /// k-means++: that many rows are drawn per step and the one that lowers the total squared distance
    /// most is kept (1 = the official single draw). Inherently sequential in k; each step is one
    /// vectorised pass over the rows ([N, D] x [D, candidates]). In slices of
    /// <see cref="PlusPlusStepsPerSlice"/> steps; the last item is the centres [K, D].
    /// </summary>
    internal static IEnumerable<Tensor?> PlusPlusSlices(Tensor rows, int k, Generator generator, int candidates = 1)
    {
        long n = rows.shape[0];
        var picks = new long[k];
        Tensor? nearest = null;
        try
        {
            using (NewDisposeScope())
            {
                picks[0] = randint(0, n, [1], generator: generator).item<long>();
                nearest = SquaredDistances(rows, rows[picks[0]].unsqueeze(1)).squeeze(1).DetachFromDisposeScope(); // [N]
            }
            for (int j = 1; j < k; j++)
            {
                if (j % PlusPlusStepsPerSlice == 0) yield return null;
                using var step = NewDisposeScope();   // closed at the end of each step, never open across a yield
                var drawn = (nearest + PlusPlusEpsilon).multinomial(candidates, true, generator); // [L]
                var updated = nearest.unsqueeze(1).minimum(SquaredDistances(rows, rows.index_select(0, drawn).t())); // [N, L]
                long best = candidates == 1 ? 0 : updated.sum(dim: 0).argmin().item<long>();
                picks[j] = drawn[best].item<long>();
                var next = updated[.., best].contiguous().DetachFromDisposeScope();
                nearest.Dispose();
                nearest = next;
            }
        }
        finally
        {
            nearest?.Dispose();
        }
        Tensor centres;
        using (NewDisposeScope()) centres = rows.index_select(0, tensor(picks)).MoveToOuterDisposeScope(); // [K, D]
        yield return centres;
    }

    /// <summary>k-means++ steps run per slice: each reads the rows once (against the drawn candidates),
    /// so a slice costs about what one Lloyd iteration at K = 8 · candidates does.</summary>
    private const int PlusPlusStepsPerSlice = 8;

    /// <summary>
    /// Grows a fit by one centre (the warm start of the adaptive mode): the cluster with the largest
    /// distortion is bisected along its principal direction (a few power iterations on its centred
    /// rows), its centre replaced by the mean of one half and the mean of the other half appended.
    /// Deterministic. Returns [K+1, D], or null when no cluster can be split (all clusters are sets
    /// of identical rows).
    /// </summary>
    internal static Tensor? SplitWorstCluster(Tensor rows, KMeansFit fit, int powerIterations = 4)
    {
        using var scope = NewDisposeScope();
        var worst = fit.ClusterDistortions.argmax();
        var members = rows.index_select(0, fit.Labels.eq(worst).nonzero().squeeze(1)); // [m, D]
        var centred = members - members.mean([0]);
        var (radius, farthest) = centred.norm(1).max(dim: 0);
        if (radius.item<float>() < 1e-4f) return null; // one repeated row (up to rounding): nothing to split
        var direction = centred[farthest]; // power iteration starts from the member farthest from the mean
        for (int i = 0; i < powerIterations; i++)
            direction = NormalizeRows(centred.t().matmul(centred.matmul(direction)).unsqueeze(0)).squeeze(0);
        var side = centred.matmul(direction).gt(0); // [m]
        long positives = side.sum().item<long>();
        if (positives == 0 || positives == members.shape[0]) return null;
        var grown = cat([fit.Centroids, members[side.logical_not()].mean([0]).unsqueeze(0)], 0); // [K+1, D]
        grown[worst] = members[side].mean([0]);
        return grown.MoveToOuterDisposeScope();
    }

    /// <summary>|x − r|² of every unit row x to unit columns r of [D, L]: 2 − 2 x·r, [N, L].</summary>
    private static Tensor SquaredDistances(Tensor rows, Tensor columns) =>
        (2 - 2 * rows.matmul(columns)).clamp_min(0);

    /// <summary>The Lloyd loop, one iteration per slice. Loop-carried tensors belong to no dispose scope
    /// between slices (disposed here, also when the caller stops early); each iteration's temporaries
    /// live in its own scope, and the last iteration's outcome moves to the caller's.</summary>
    private static IEnumerable<KMeansFit?> LloydSlices(Tensor rows, Tensor initialCentroids, int maxIterations, double tolerance)
    {
        int k = (int)initialCentroids.shape[0];
        Tensor? centroids = null;
        int iterations = 0, reseeded = 0;
        try
        {
            while (true)
            {
                if (iterations > 0) yield return null;
                iterations++;
                KMeansFit? fit = null;
                using (NewDisposeScope())
                {
                    var current = centroids ?? initialCentroids.to(ScalarType.Float32);
                    var directions = NormalizeRows(current);
                    var (best, assigned) = Nearest(rows, directions); // cosines to every centre -> [N]
                    var (stepSums, stepCounts) = Codebook.SumsAndCounts(rows, assigned, k);
                    var empty = stepCounts.eq(0);
                    var next = where(empty.unsqueeze(1), current, Codebook.MeansOf(stepSums, stepCounts));
                    long emptyCount = empty.sum().item<long>();
                    if (emptyCount > 0)
                    {
                        var farthest = best.topk((int)emptyCount, largest: false).indexes;
                        next = next.index_copy(0, empty.nonzero().squeeze(1), rows.index_select(0, farthest));
                        reseeded += (int)emptyCount;
                    }
                    double shift = (next - current).norm().item<float>();
                    bool converged = shift < tolerance;
                    if (converged || iterations >= maxIterations)
                    {
                        var clusterDistortions = ClusterDistortions(stepSums, stepCounts);
                        fit = new KMeansFit(assigned, next, iterations, converged, clusterDistortions.sum().item<double>(), reseeded, clusterDistortions)
                            .MoveToOuterDisposeScope();
                    }
                    else
                    {
                        next.DetachFromDisposeScope();
                    }
                    centroids?.Dispose(); // never the caller's tensor
                    centroids = fit is null ? next : null;
                }
                if (fit is not null)
                {
                    yield return fit;
                    yield break;
                }
            }
        }
        finally
        {
            centroids?.Dispose();
        }
    }

    /// <summary>Rows per block of the assignment and the cluster sums: the [rows, K] cosines of a long video (1024 frames
    /// are 746,496 rows) are computed a block at a time, never whole. Videos up to 89 frames are one block.</summary>
    internal const long AssignBlockRows = 65_536;

    /// <summary>Each unit row's largest cosine to the unit <paramref name="directions"/> [K, D] and its index, [N] each.</summary>
    internal static (Tensor Best, Tensor Assigned) Nearest(Tensor rows, Tensor directions)
    {
        long n = rows.shape[0];
        var columns = directions.t();
        if (n <= AssignBlockRows) return rows.matmul(columns).max(1);
        var best = empty(n, ScalarType.Float32, rows.device);
        var assigned = empty(n, ScalarType.Int64, rows.device);
        for (long start = 0; start < n; start += AssignBlockRows)
        {
            using var block = NewDisposeScope();
            long length = Math.Min(AssignBlockRows, n - start);
            var (value, index) = rows.narrow(0, start, length).matmul(columns).max(1);
            best.narrow(0, start, length).copy_(value);
            assigned.narrow(0, start, length).copy_(index);
        }
        return (best, assigned);
    }

    /// <summary>Per-cluster Σ |x − mean|² over unit rows: n_k − |S_k|² / n_k (S_k: sum of cluster k), float64 [K].</summary>
    private static Tensor ClusterDistortions(Tensor sums, Tensor counts)
    {
        using var scope = NewDisposeScope();
        var n = counts.to(ScalarType.Float64);
        return (n - sums.to(ScalarType.Float64).pow(2).sum(1) / n.clamp_min(1)).clamp_min(0).MoveToOuterDisposeScope();
    }

    private static void ValidateRows(Tensor rows, int k)
    {
        if (rows.dim() != 2 || rows.dtype != ScalarType.Float32)
            throw new ArgumentException($"expected float32 [N, D] rows, got {rows.dtype} with {rows.dim()} dimensions", nameof(rows));
        ArgumentOutOfRangeException.ThrowIfLessThan(k, 1, nameof(k));
        if (k > rows.shape[0])
            throw new ArgumentOutOfRangeException(nameof(k), $"K = {k} exceeds the {rows.shape[0]} rows");
    }
}
