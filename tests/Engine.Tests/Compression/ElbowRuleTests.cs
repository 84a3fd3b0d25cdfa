using VQToken.Engine.Compression;

namespace VQToken.Engine.Tests.Compression;

public class ElbowRuleTests
{
    /// <summary>Steep (−100 per K) until K = elbow, then nearly flat (−5 per K), for K = 12..32.</summary>
    private static double[] CurveWithElbowAt(int elbow) =>
        Enumerable.Range(12, 21).Select(k => k <= elbow ? 5000.0 - 100 * (k - 12) : 5000.0 - 100 * (elbow - 12) - 5 * (k - elbow)).ToArray();

    [Theory]
    [InlineData(13)]
    [InlineData(20)]
    [InlineData(31)]
    public void Centered_rule_returns_the_K_after_which_the_curve_flattens(int elbow)
    {
        Assert.Equal(elbow, ElbowRule.Select(CurveWithElbowAt(elbow), minK: 12, ElbowIndexing.Centered));
    }

    [Theory]
    [InlineData(20, 12)] // argmax of the second differences = 7 -> 7 + 4 = 11 -> clamped to 12
    [InlineData(28, 19)] // argmax = 15 -> 19
    [InlineData(31, 22)] // argmax = 18 -> 22
    public void Official_rule_reproduces_the_reference_index_arithmetic(int elbow, int expected)
    {
        Assert.Equal(expected, ElbowRule.Select(CurveWithElbowAt(elbow), minK: 12, ElbowIndexing.Official));
    }

    [Fact]
    public void Short_curves_return_MinK()
    {
        Assert.Equal(12, ElbowRule.Select([10.0, 5.0], minK: 12));
        Assert.Equal(12, ElbowRule.Select([], minK: 12));
    }

    [Fact]
    public void First_maximum_wins_on_ties()
    {
        Assert.Equal(13, ElbowRule.Select([10.0, 5.0, 5.0, 0.0, 0.0], minK: 12, ElbowIndexing.Centered));
        Assert.Equal(12, ElbowRule.Select([10.0, 5.0, 5.0, 0.0, 0.0], minK: 12, ElbowIndexing.Official)); // argmax 0 -> 4 -> 12
    }

    [Fact]
    public void The_default_rule_is_the_official_one()
    {
        foreach (int elbow in new[] { 13, 20, 25, 28, 31 })
            Assert.Equal(ElbowRule.Select(CurveWithElbowAt(elbow), 12, ElbowIndexing.Official), ElbowRule.Select(CurveWithElbowAt(elbow), 12));
        Assert.Equal(ElbowIndexing.Official, new AdaptiveKOptions().Indexing);
        Assert.Equal(ElbowIndexing.Official, CompressionSettings.Published(32).Elbow);
    }

    /// <summary>Curves of the official kind (independently seeded fits, so not monotone-smooth), K = 12..32,
    /// with the K the official arithmetic gives: max(argmax of the second differences + 4, 12).</summary>
    [Theory]
    [InlineData(new[] { 1650.2, 1622.9, 1601.7, 1566.0, 1561.8, 1540.3, 1519.6, 1504.1, 1493.0, 1471.8, 1455.2, 1449.9, 1433.1, 1421.0, 1379.4, 1398.6, 1380.2, 1374.9, 1358.3, 1351.7, 1340.2 }, 17)]
    [InlineData(new[] { 980.0, 955.1, 951.0, 930.2, 921.7, 910.3, 899.8, 890.4, 879.9, 873.2, 860.1, 853.3, 845.0, 838.7, 829.9, 824.1, 815.2, 809.9, 801.3, 796.6, 789.0 }, 12)]
    [InlineData(new[] { 500.0, 498.0, 496.0, 494.0, 492.0, 490.0, 488.0, 486.0, 484.0, 482.0, 480.0, 478.0, 476.0, 474.0, 472.0, 470.0, 468.0, 466.0, 440.0, 438.0, 436.0 }, 21)]
    public void Official_rule_on_noisy_curves_gives_the_official_K(double[] curve, int expected)
    {
        Assert.Equal(21, curve.Length);
        Assert.Equal(expected, NaiveOfficial(curve));
        Assert.Equal(expected, ElbowRule.Select(curve, 12, ElbowIndexing.Official));
    }

    /// <summary>The official compute_elbow + find_best_K, spelled out: diffs, diffs of diffs, argmax (first), +2 +2, at least 12.</summary>
    private static int NaiveOfficial(double[] d)
    {
        var diffs = d.Skip(1).Zip(d, (next, prev) => next - prev).ToArray();
        var second = diffs.Skip(1).Zip(diffs, (next, prev) => next - prev).ToArray();
        int argmax = Array.IndexOf(second, second.Max());
        return Math.Max(argmax + 2 + 2, 12);
    }
}
