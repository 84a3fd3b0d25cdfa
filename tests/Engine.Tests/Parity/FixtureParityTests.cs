using VQToken.Engine.Tests.Support;
using VQToken.Testing;

namespace VQToken.Engine.Tests.Parity;

/// <summary>The engine against the independent PyTorch reference outputs of the shared fixtures
/// (../shared/fixtures/parity-*): every stage within 1e-4 and the same greedy tokens.</summary>
public class FixtureParityTests
{
    private const double Tolerance = 1e-4;

    [Theory]
    [InlineData("parity-a")]
    [InlineData("parity-b")]
    [InlineData("parity-official-codebook")]
    public void Every_stage_matches_the_reference_outputs_of_the_fixture(string fixture)
    {
        var report = FixtureParity.Run(TestPaths.Fixture(fixture));

        Assert.Multiple(
            () => AssertWithin("vision_features", report.VisionFeatures),
            () => AssertWithin("projected", report.Projected),
            () => AssertWithin("full_tokens", report.FullTokens),
            () => AssertWithin("logits_full", report.LogitsFull),
            () => AssertWithin("logits_vq", report.LogitsVq),
            () => AssertWithin("codebook", report.Codebook),
            () => AssertWithin("vq_tokens", report.VqTokens),
            () => Assert.True(report.GreedyMatch, "greedy_vq: the 8 greedy tokens differ from the reference"),
            () => Assert.True(report.Ok, "the report's overall verdict is not ok"));
    }

    [Theory]
    [InlineData("parity-a", "attention")]
    [InlineData("parity-b", "attention")]
    [InlineData("parity-official-codebook", "codebook")]
    public void Fixture_is_compared_on_the_token_path_its_checkpoint_has(string fixture, string tokens)
    {
        Assert.Equal(tokens, FixtureParity.Run(TestPaths.Fixture(fixture)).Tokens);
    }

    [Fact]
    public void Missing_fixture_folder_fails_with_a_message_naming_it()
    {
        var error = Assert.Throws<InvalidOperationException>(() => TestPaths.Fixture("parity-does-not-exist"));
        Assert.Contains("parity-does-not-exist", error.Message);
        Assert.Contains("../shared/fixtures", error.Message);
    }

    private static void AssertWithin(string stage, double? maxAbsDiff)
    {
        Assert.True(maxAbsDiff.HasValue, $"{stage}: not compared");
        Assert.True(maxAbsDiff <= Tolerance, $"{stage}: max abs diff {maxAbsDiff:E3} exceeds {Tolerance:E0}");
    }
}
