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
        Assert.Equal(elbow, ElbowRule.Select(CurveWithElbowAt(elbow), minK: 12));
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
        Assert.Equal(13, ElbowRule.Select([10.0, 5.0, 5.0, 0.0, 0.0], minK: 12));
    }
}
