using VQToken.Engine.Generation;
using VQToken.Engine.Runtime;
using VQToken.Engine.Tests.Support;
using static TorchSharp.torch;

namespace VQToken.Engine.Tests.Generation;

/// <summary>Generation through the engine's scheduler and model runner (<see cref="TextGenerator"/>) on
/// parity-b's model and multimodal prompt.</summary>
public class TextGeneratorTests(ParityModel parity) : IClassFixture<ParityModel>
{
    private readonly VQToken.Engine.Models.LlavaOneVision _model = parity.Model;

    [Fact]
    public void Decoding_N_tokens_runs_the_prompt_once_then_one_single_position_step_per_further_token()
    {
        const int n = 6;
        var lm = _model.Language;
        long calls = lm.ForwardCalls, positions = lm.ForwardPositions;

        var result = Generate(SamplingOptions.Greedy(n));

        Assert.Equal(n, result.Tokens.Count);
        // The prompt: its prefix (system prompt + visual tokens) and its question, one call each at this
        // size; then one call of one position per further token (the last token needs no forward).
        Assert.Equal(calls + 2 + (n - 1), lm.ForwardCalls);
        Assert.Equal(positions + parity.PromptLength + n - 1, lm.ForwardPositions);
    }

    [Fact]
    public void Greedy_tokens_equal_a_full_recomputation_of_prompt_and_generated_tokens()
    {
        const int n = 8;
        var lm = _model.Language;
        var ids = Generate(SamplingOptions.Greedy(n)).Tokens.ToArray();

        using var scope = NewDisposeScope();
        var generated = lm.Embed(tensor(ids.Take(n - 1).ToArray()).unsqueeze(0));
        using var fresh = lm.NewCache();
        var full = lm.Forward(cat([parity.PromptEmbeds, generated], 1), fresh).squeeze(0);   // [L + n - 1, V]
        var argmax = full.narrow(0, parity.PromptLength - 1, n).argmax(1).data<long>().ToArray();

        Assert.Equal(argmax, ids);
    }

    [Fact]
    public void A_small_prefill_chunk_generates_the_same_tokens()
    {
        var whole = Generate(SamplingOptions.Greedy(8)).Tokens;

        var chunked = Generate(SamplingOptions.Greedy(8), new EngineOptions { PrefillChunkTokens = 16 }).Tokens;

        Assert.Equal(whole, chunked);
    }

    [Fact]
    public void The_same_seed_samples_the_same_tokens()
    {
        var options = new SamplingOptions { MaxNewTokens = 16, Temperature = 3.0, Seed = 1234 };

        Assert.Equal(Generate(options).Tokens, Generate(options).Tokens);
    }

    [Fact]
    public void Top_k_of_one_samples_the_greedy_tokens()
    {
        var greedy = Generate(SamplingOptions.Greedy(12)).Tokens;

        Assert.Equal(greedy, Generate(new SamplingOptions { MaxNewTokens = 12, Temperature = 5.0, TopK = 1, Seed = 5 }).Tokens);
        // The high temperature alone would have wandered off: top-k is what keeps it greedy.
        Assert.NotEqual(greedy, Generate(new SamplingOptions { MaxNewTokens = 12, Temperature = 5.0, Seed = 5 }).Tokens);
    }

    [Fact]
    public void Temperature_zero_is_greedy_whatever_the_other_options()
    {
        var greedy = Generate(SamplingOptions.Greedy(10)).Tokens;

        Assert.Equal(greedy, Generate(new SamplingOptions { MaxNewTokens = 10, Temperature = 0, TopK = 50, TopP = 0.3, Seed = 9 }).Tokens);
    }

    [Fact]
    public void A_stop_id_ends_generation_with_Stop_and_is_not_emitted()
    {
        var greedy = Generate(SamplingOptions.Greedy(8)).Tokens;
        int at = Enumerable.Range(1, greedy.Count - 1).First(i => !greedy.Take(i).Contains(greedy[i]));

        var stopped = Generate(SamplingOptions.Greedy(8, new HashSet<long> { greedy[at] }));

        Assert.Equal(greedy.Take(at), stopped.Tokens);
        Assert.Equal(FinishReason.Stop, stopped.FinishReason);
    }

    [Fact]
    public void Reaching_MaxNewTokens_ends_generation_with_Length()
    {
        var result = Generate(SamplingOptions.Greedy(5));

        Assert.Equal(5, result.Tokens.Count);
        Assert.Equal(FinishReason.Length, result.FinishReason);
    }

    private AskResult Generate(SamplingOptions options, EngineOptions? engine = null) =>
        TextGenerator.Generate(_model, new AskRequest("parity-b", parity.Encoding, parity.PromptIds, options, UsePrefixCache: false), engine);
}
