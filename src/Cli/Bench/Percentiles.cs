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

    /// <summary>Wall times in ms of <paramref name="runs"/> runs of <paramref name="run"/>, in run order (the caller warms up).</summary>
    public static List<double> Sample(int runs, Action run)
    {
        var times = new List<double>(runs);
        for (int i = 0; i < runs; i++)
        {
            var clock = System.Diagnostics.Stopwatch.StartNew();
            run();
            times.Add(clock.Elapsed.TotalMilliseconds);
        }
        return times;
    }
}
