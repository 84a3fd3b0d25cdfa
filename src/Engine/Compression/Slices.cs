namespace VQToken.Engine.Compression;

/// <summary>
/// Compression written as resumable slices, so the engine can interleave it with decode steps and stop
/// it between slices: an iterator yields null after each bounded unit of work (one Lloyd iteration, a
/// few k-means++ steps, one split) and its outcome as the last item. No dispose scope stays open across
/// a yield: carried tensors belong to no scope (the iterator disposes them, also when stopped early),
/// and the outcome lands in the dispose scope of whoever asked for the last slice.
/// </summary>
internal static class Slices
{
    /// <summary>Runs all slices at once; returns the outcome.</summary>
    public static T Run<T>(IEnumerable<T?> slices) where T : class
    {
        foreach (var slice in slices)
            if (slice is not null) return slice;
        throw new InvalidOperationException("the computation ended without an outcome");
    }
}
