using VQToken.Engine.Generation;
using VQToken.Engine.Tests.Support;
using static TorchSharp.torch;

namespace VQToken.Engine.Tests.Generation;

public class TokenSamplerTests
{
    [Fact]
    public void Different_seeds_draw_different_tokens_from_a_flat_distribution()
    {
        var seed1 = Draw(new float[100], new SamplingOptions { Temperature = 1, Seed = 1 }, 32);
        var seed2 = Draw(new float[100], new SamplingOptions { Temperature = 1, Seed = 2 }, 32);
        var seed1Again = Draw(new float[100], new SamplingOptions { Temperature = 1, Seed = 1 }, 32);

        Assert.NotEqual(seed1, seed2);
        Assert.Equal(seed1, seed1Again);
        Assert.True(seed1.Distinct().Count() > 10, "a flat distribution should spread the draws");
    }

    [Fact]
    public void Temperature_zero_and_top_k_of_one_return_the_argmax()
    {
        var random = new Random(4);
        for (int trial = 0; trial < 20; trial++)
        {
            var logits = Managed.Uniform(random, 50, spread: 2);
            long argmax = Array.IndexOf(logits, logits.Max());

            Assert.All(Draw(logits, new SamplingOptions { Temperature = 0, Seed = trial }, 3), id => Assert.Equal(argmax, id));
            Assert.All(Draw(logits, new SamplingOptions { Temperature = 10, TopK = 1, Seed = trial }, 3), id => Assert.Equal(argmax, id));
        }
    }

    [Fact]
    public void Top_k_draws_only_among_the_k_largest_logits()
    {
        float[] logits = [0.1f, 2.0f, 0.3f, 1.9f, 0.2f, 2.1f, 0.0f, 0.15f];

        var draws = Draw(logits, new SamplingOptions { Temperature = 1, TopK = 3, Seed = 7 }, 300);

        Assert.Equal(new long[] { 1, 3, 5 }, draws.Distinct().Order());
    }

    [Theory]
    [InlineData(0.7, new long[] { 0, 1 })]
    [InlineData(0.85, new long[] { 0, 1, 2 })]
    [InlineData(1.0, new long[] { 0, 1, 2, 3 })]
    public void Top_p_draws_from_the_smallest_set_of_most_likely_tokens_reaching_p(double topP, long[] allowed)
    {
        // Probabilities 0.5, 0.3, 0.15, 0.05 (in a shuffled order of ids to check the un-sorting).
        int[] order = [2, 0, 3, 1];
        double[] probs = [0.5, 0.3, 0.15, 0.05];
        var logits = new float[4];
        for (int rank = 0; rank < 4; rank++) logits[order[rank]] = (float)Math.Log(probs[rank]);

        var draws = Draw(logits, new SamplingOptions { Temperature = 1, TopP = topP, Seed = 11 }, 400);

        Assert.Equal(allowed.Select(rank => (long)order[rank]).Order(), draws.Distinct().Order());
    }

    [Theory]
    [InlineData(0, 0.0, 1.0, 0)]
    [InlineData(4, -0.5, 1.0, 0)]
    [InlineData(4, 1.0, 0.0, 0)]
    [InlineData(4, 1.0, 1.5, 0)]
    [InlineData(4, 1.0, 1.0, -1)]
    [InlineData(4, double.NaN, 1.0, 0)]
    public void Invalid_options_are_rejected(int maxNewTokens, double temperature, double topP, int topK)
    {
        var options = new SamplingOptions { MaxNewTokens = maxNewTokens, Temperature = temperature, TopP = topP, TopK = topK };

        Assert.Throws<ArgumentException>(() => new TokenSampler(options).Dispose());
    }

    private static long[] Draw(float[] logits, SamplingOptions options, int count)
    {
        using var scope = NewDisposeScope();
        using var sampler = new TokenSampler(options);
        var t = tensor(logits);
        return Enumerable.Range(0, count).Select(_ => sampler.Next(t)).ToArray();
    }
}
