using TorchSharp;
using static TorchSharp.torch;

namespace VQToken.Engine.Compression;

/// <summary>
/// Adaptive-length K: the official elbow choice over K = Kmin..Kmax, computed incrementally.
/// </summary>
/// <remarks>
/// <para>The official code fits every K from scratch (fresh k-means++, up to 100 Lloyd iterations),
/// records the distortion Σ|x − c|² of each fit, picks K by <see cref="ElbowRule"/> (largest second
/// difference, never below Kmin) and then fits that K once more from scratch.</para>
/// <para>Here the fits are nested: one full k-means++ fit at Kmin, then each K+1 starts from the K solution
/// with its worst cluster (largest distortion) bisected along its principal direction, refined by at
/// most <see cref="AdaptiveKOptions.CurveIterations"/> Lloyd iterations (early exit on the shift
/// tolerance). The curve is the same quantity over the same K range, but monotone and far less noisy
/// than independently seeded fits, and each point costs a few iterations instead of a full fit. The
/// chosen K is then polished (up to <see cref="AdaptiveKOptions.FinalIterations"/> iterations) from
/// its warm state instead of refitted from scratch. Early exit: when no cluster can be split any more
/// (the rows hold fewer distinct values than K) the curve stops there.</para>
/// </remarks>
public static class AdaptiveK
{
    /// <summary>Chooses K and clusters L2-normalised float32 rows [N, D].</summary>
    public static AdaptiveKFit Fit(Tensor rows, AdaptiveKOptions? options = null)
    {
        options ??= new AdaptiveKOptions();
        options.Validate();
        return Slices.Run(FitSlices(rows, options));
    }

    /// <summary><see cref="Fit"/> in slices (see <see cref="Slices"/>).</summary>
    internal static IEnumerable<AdaptiveKFit?> FitSlices(Tensor rows, AdaptiveKOptions options)
    {
        int maxK = (int)Math.Min(options.MaxK, rows.shape[0]);
        int minK = Math.Min(options.MinK, maxK);
        var curve = new KMeansOptions(options.CurveIterations, options.Tolerance, options.Seed);

        using var generator = new Generator(options.Seed, rows.device);
        var centroidsPerK = new List<Tensor>();
        var distortions = new List<double>();
        KMeansFit? fit = null;
        Tensor? start = null, sample = null;
        try
        {
            sample = KMeans.Sample(rows, options.SampleRows, maxK, generator);
            var curveRows = sample ?? rows;
            double scale = (double)rows.shape[0] / curveRows.shape[0];   // sample distortion → all-rows estimate
            foreach (var slice in KMeans.PlusPlusSlices(curveRows, minK, generator, curve.InitCandidates))
            {
                if (slice is null) yield return null;
                else start = slice.DetachFromDisposeScope();
            }
            bool first = true; // the curve's first point is a full fit: every later point grows from it
            while (true)
            {
                foreach (var slice in KMeans.RefineSlices(curveRows, start!, first ? curve with { MaxIterations = options.FinalIterations } : curve))
                {
                    if (slice is null) yield return null;
                    else fit = slice.DetachFromDisposeScope();
                }
                start!.Dispose();
                start = null;
                first = false;
                centroidsPerK.Add(fit!.Centroids.clone().DetachFromDisposeScope());
                distortions.Add(fit.Distortion * scale);
                if (fit.K == maxK) break;
                yield return null;
                start = KMeans.SplitWorstCluster(curveRows, fit)?.DetachFromDisposeScope();
                fit.Dispose();
                fit = null;
                if (start is null) break; // every cluster is one repeated row: more centres cannot help
            }

            int chosen = ElbowRule.Select(distortions, minK, options.Indexing);
            KMeansFit? final = null;
            int polish = sample is null ? options.FinalIterations : Math.Min(options.FinalIterations, options.FullIterations);
            foreach (var slice in KMeans.RefineSlices(rows, centroidsPerK[chosen - minK], curve with { MaxIterations = polish }))
            {
                if (slice is null) yield return null;
                else final = slice;
            }
            yield return new AdaptiveKFit(chosen, distortions, minK, final!);
        }
        finally
        {
            fit?.Dispose();
            start?.Dispose();
            sample?.Dispose();
            foreach (var c in centroidsPerK) c.Dispose();
        }
    }
}
