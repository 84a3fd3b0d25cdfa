namespace VQToken.Engine.Compression;

/// <summary>Visual token counts of one video: before compression (T·g·g grid tokens) and after (K).</summary>
public readonly record struct TokenCounts(int Original, int Compressed)
{
    /// <summary>Compressed / original (the paper's "token %" divided by 100), 0 for an empty video.</summary>
    public double Ratio => Original == 0 ? 0 : (double)Compressed / Original;
}
