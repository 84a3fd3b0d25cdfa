namespace VQToken.Ingestion;

/// <summary>Sampled frames as RGB bytes [Count, Size, Size, 3] (managed memory): what ingestion hands the engine,
/// whose <c>ToPixels</c> makes the vision tower's input on the engine thread.</summary>
public sealed record RgbFrames(int Count, int Size, byte[] Data)
{
    public void Validate()
    {
        if (Count < 1 || Size < 1 || Data.LongLength != (long)Count * Size * Size * 3)
            throw new ArgumentException($"RGB frames: {Data.LongLength} bytes do not make {Count} frames of {Size}x{Size}x3");
    }
}
