namespace VQToken.Api.Storage;

/// <summary>Visual tokens the baseline would feed the LLM vs. what the compressed video feeds it.</summary>
public sealed record TokenCounts(long Original, long Compressed)
{
    public double Ratio => Compressed == 0 ? 0 : (double)Original / Compressed;
}
