using VQToken.Engine.Generation;
using VQToken.Engine.Tests.Support;
using static TorchSharp.torch;

namespace VQToken.Engine.Tests.Generation;

/// <summary>Decoding with the KV cache on parity-b's model and multimodal prompt.</summary>
public class TextGeneratorTests(ParityModel parity) : IClassFixture<ParityModel>
{
    private readonly VQToken.Engine.Models.LlavaOneVision _model = parity.Model;

    [Fact]
    public void Decoding_N_tokens_runs_the_prefill_then_one_single_position_step_per_further_token()
    {
        const int n = 6;
        var lm = _model.Language;
        using var cache = lm.NewCache();
        using var tokens = TextGenerator.Generate(lm, parity.PromptEmbeds, cache, SamplingOptions.Greedy(n)).GetEnumerator();
        long calls = lm.ForwardCalls, positions = lm.ForwardPositions;

        Assert.True(tokens.MoveNext());   // the prefill: one call over the whole prompt
        Assert.Equal((calls + 1, positions + parity.PromptLength), (lm.ForwardCalls, lm.ForwardPositions));
        for (int i = 1; i < n; i++)
        {
            (calls, positions) = (lm.ForwardCalls, lm.ForwardPositions);
            Assert.True(tokens.MoveNext());
            Assert.Equal((calls + 1, positions + 1), (lm.ForwardCalls, lm.ForwardPositions));
        }
        (calls, positions) = (lm.ForwardCalls, lm.ForwardPositions);
        Assert.False(tokens.MoveNext());  // the last token needs no forward
        Assert.Equal((calls, positions), (lm.ForwardCalls, lm.ForwardPositions));
        Assert.Equal(parity.PromptLength + n - 1, cache.Length);
    }

    [Fact]
    public void Greedy_incremental_logits_equal_a_full_recomputation_of_prompt_and_generated_tokens()
    {
        const int n = 8;
        var lm = _model.Language;
        using var scope = NewDisposeScope();
        var stepLogits = new List<Tensor>();
        var ids = new List<long>();
        using (var cache = lm.NewCache(capacity: 4))   // small: the cache grows during the prefill and decoding
        {
            var logits = lm.Forward(parity.PromptEmbeds, cache, lastOnly: true);
            for (int i = 0; i < n; i++)
            {
                stepLogits.Add(logits.reshape(-1));
                ids.Add(logits.reshape(-1).argmax().item<long>());
                if (i < n - 1) logits = lm.Forward(lm.Embed(tensor(new[] { ids[^1] }).unsqueeze(0)), cache, lastOnly: true);
            }
        }

        var generated = lm.Embed(tensor(ids.Take(n - 1).ToArray()).unsqueeze(0));
        using var fresh = lm.NewCache();
        var full = lm.Forward(cat([parity.PromptEmbeds, generated], 1), fresh).squeeze(0);   // [L + n - 1, V]
        var expected = full.narrow(0, parity.PromptLength - 1, n);

        Assert.True(Managed.MaxAbsDiff(stack(stepLogits), expected) < 1e-4, $"max abs diff {Managed.MaxAbsDiff(stack(stepLogits), expected):E2}");
        Assert.Equal(ids, Generate(SamplingOptions.Greedy(n)));
    }

    [Fact]
    public void A_prompt_prefix_taken_from_a_cloned_cache_generates_the_same_tokens()
    {
        var lm = _model.Language;
        using var scope = NewDisposeScope();
        long prefix = parity.PromptLength - 3;
        using var prefixCache = lm.NewCache();
        lm.Forward(parity.PromptEmbeds.narrow(1, 0, prefix), prefixCache);
        using var clone = prefixCache.Clone();

        var tokens = TextGenerator.Generate(lm, parity.PromptEmbeds.narrow(1, prefix, 3), clone, SamplingOptions.Greedy(8)).ToArray();

        Assert.Equal(Generate(SamplingOptions.Greedy(8)), tokens);
    }

    [Fact]
    public void The_same_seed_samples_the_same_tokens()
    {
        var options = new SamplingOptions { MaxNewTokens = 16, Temperature = 3.0, Seed = 1234 };

        Assert.Equal(Generate(options), Generate(options));
    }

    [Fact]
    public void Top_k_of_one_samples_the_greedy_tokens()
    {
        var greedy = Generate(SamplingOptions.Greedy(12));

        Assert.Equal(greedy, Generate(new SamplingOptions { MaxNewTokens = 12, Temperature = 5.0, TopK = 1, Seed = 5 }));
        // The high temperature alone would have wandered off: top-k is what keeps it greedy.
        Assert.NotEqual(greedy, Generate(new SamplingOptions { MaxNewTokens = 12, Temperature = 5.0, Seed = 5 }));
    }

    [Fact]
    public void Temperature_zero_is_greedy_whatever_the_other_options()
    {
        var greedy = Generate(SamplingOptions.Greedy(10));

        Assert.Equal(greedy, Generate(new SamplingOptions { MaxNewTokens = 10, Temperature = 0, TopK = 50, TopP = 0.3, Seed = 9 }));
    }

    [Fact]
    public void A_stop_id_ends_generation_with_Stop_and_is_not_emitted()
    {
        var greedy = Generate(SamplingOptions.Greedy(8));
        int at = Enumerable.Range(1, greedy.Length - 1).First(i => !greedy.Take(i).Contains(greedy[i]));
        FinishReason? finish = null;

        var tokens = Generate(SamplingOptions.Greedy(8, new HashSet<long> { greedy[at] }), r => finish = r);

        Assert.Equal(greedy.Take(at), tokens);
        Assert.Equal(FinishReason.Stop, finish);
    }

    [Fact]
    public void Reaching_MaxNewTokens_ends_generation_with_Length()
    {
        FinishReason? finish = null;

        var tokens = Generate(SamplingOptions.Greedy(5), r => finish = r);

        Assert.Equal(5, tokens.Length);
        Assert.Equal(FinishReason.Length, finish);
    }

    private long[] Generate(SamplingOptions options, Action<FinishReason>? finish = null)
    {
        using var cache = _model.Language.NewCache();
        return TextGenerator.Generate(_model.Language, parity.PromptEmbeds, cache, options, finish).ToArray();
    }
}
