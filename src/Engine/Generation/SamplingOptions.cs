namespace VQToken.Engine.Generation;

/// <summary>How the next token is chosen. Temperature 0 = greedy (argmax); otherwise logits are
/// divided by the temperature, filtered by top-k (0 = off) and top-p (1 = off), and sampled with a
/// generator seeded by <see cref="Seed"/> (deterministic for a seed).</summary>
public sealed record SamplingOptions
{
    public int MaxNewTokens { get; init; } = 128;
    public double Temperature { get; init; }
    public double TopP { get; init; } = 1.0;
    public int TopK { get; init; }
    public long? Seed { get; init; }
    /// <summary>Token ids that end generation (not emitted). Empty = never stop early.</summary>
    public IReadOnlySet<long> StopIds { get; init; } = new HashSet<long>();

    public static SamplingOptions Greedy(int maxNewTokens, IReadOnlySet<long>? stopIds = null) =>
        new() { MaxNewTokens = maxNewTokens, StopIds = stopIds ?? new HashSet<long>() };

    /// <summary>Throws ArgumentException naming the first invalid field.</summary>
    public void Validate()
    {
        if (MaxNewTokens < 1) throw new ArgumentException("MaxNewTokens must be at least 1");
        if (Temperature < 0 || double.IsNaN(Temperature)) throw new ArgumentException("Temperature must be >= 0");
        if (TopP is <= 0 or > 1 || double.IsNaN(TopP)) throw new ArgumentException("TopP must be in (0, 1]");
        if (TopK < 0) throw new ArgumentException("TopK must be >= 0");
    }
}

/// <summary>Why generation ended: a stop token, or the token limit.</summary>
public enum FinishReason { Stop, Length }
