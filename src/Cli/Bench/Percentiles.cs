namespace VQToken.Cli.Bench;

/// <summary>Order statistics of timing samples (nearest-rank percentiles).</summary>
public static class Percentiles
{
    public static double Of(IReadOnlyCollection<double> samples, double percent)
    {
        if (samples.Count == 0) throw new ArgumentException("no samples");
        var sorted = samples.Order().ToArray();
        int rank = (int)Math.Ceiling(percent / 100.0 * sorted.Length);
        return sorted[Math.Clamp(rank - 1, 0, sorted.Length - 1)];
    }

    public static double Median(IReadOnlyCollection<double> samples) => Of(samples, 50);
}
