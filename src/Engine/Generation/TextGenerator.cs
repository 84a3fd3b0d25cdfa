using VQToken.Engine.Models;
using static TorchSharp.torch;

namespace VQToken.Engine.Generation;

/// <summary>Autoregressive decoding with a KV cache: the prompt is prefilled once, then every new
/// token costs exactly one single-position forward step.</summary>
public static class TextGenerator
{
    /// <summary>Prefills <paramref name="promptEmbeds"/> [1, L, D] into <paramref name="cache"/> (which
    /// may already hold a prefix) and yields generated token ids until a stop id (not yielded) or the
    /// token limit. <paramref name="finish"/> receives why it ended.</summary>
    public static IEnumerable<long> Generate(Qwen2ForCausalLM lm, Tensor promptEmbeds, KvCache cache,
        SamplingOptions options, Action<FinishReason>? finish = null)
    {
        using var sampler = new TokenSampler(options);
        long next;
        using (var scope = NewDisposeScope())
            next = sampler.Next(lm.Forward(promptEmbeds, cache, lastOnly: true));
        for (int produced = 0; ; )
        {
            if (options.StopIds.Contains(next))
            {
                finish?.Invoke(FinishReason.Stop);
                yield break;
            }
            yield return next;
            if (++produced >= options.MaxNewTokens)
            {
                finish?.Invoke(FinishReason.Length);
                yield break;
            }
            using var scope = NewDisposeScope();
            var embed = lm.Embed(tensor(new[] { next }, device: promptEmbeds.device).unsqueeze(0));   // [1, 1, D]
            next = sampler.Next(lm.Forward(embed, cache, lastOnly: true));
        }
    }
}
