using TorchSharp;
using static TorchSharp.torch;

namespace VQToken.Engine.Generation;

/// <summary>Chooses the next token from last-position logits [V] according to
/// <see cref="SamplingOptions"/>. Holds the seeded random generator of one request.</summary>
public sealed class TokenSampler : IDisposable
{
    private readonly SamplingOptions _options;
    private readonly Generator? _random;

    public TokenSampler(SamplingOptions options)
    {
        options.Validate();
        _options = options;
        if (options.Temperature > 0)
            _random = new Generator((ulong)(options.Seed ?? Random.Shared.NextInt64()));
    }

    public long Next(Tensor logits)
    {
        if (_random is null && Kernels.DecodeOps.TakesArgMax(logits)) return Kernels.DecodeOps.ArgMax(logits);
        using var scope = NewDisposeScope();
        var scores = logits.reshape(-1).to_type(ScalarType.Float32);
        if (_random is null) return scores.argmax().item<long>();

        scores = scores / _options.Temperature;
        if (_options.TopK > 0 && _options.TopK < scores.shape[0])
        {
            var kth = scores.topk(_options.TopK).values[-1];
            scores = scores.masked_fill(scores < kth, double.NegativeInfinity);
        }
        if (_options.TopP < 1.0)
        {
            var (sorted, order) = scores.sort(descending: true);
            var cumulative = sorted.softmax(0).cumsum(0);
            // Drop a token when the mass before it already reaches top_p (the first token always stays).
            var drop = (cumulative - sorted.softmax(0)) >= _options.TopP;
            var dropped = zeros_like(drop).scatter(0, order, drop);
            scores = scores.masked_fill(dropped, double.NegativeInfinity);
        }
        var probs = scores.softmax(0);
        return multinomial(probs, 1, generator: _random).item<long>();
    }

    public void Dispose() => _random?.Dispose();
}
