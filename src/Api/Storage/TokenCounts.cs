namespace VQToken.Api.Storage;

/// <summary>Visual tokens before compression (frame tokens) vs. what the compressed video feeds the LLM.</summary>
public sealed record TokenCounts(long Original, long Compressed)
{
    /// <summary>Compressed / original, as the engine reports it (0.0014 = 0.14 % of the tokens).</summary>
    public double Ratio => Original == 0 ? 0 : (double)Compressed / Original;
}
