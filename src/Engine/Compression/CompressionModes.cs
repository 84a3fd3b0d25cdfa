namespace VQToken.Engine.Compression;

/// <summary>Wire names of <see cref="CompressionMode"/>.</summary>
public static class CompressionModes
{
    /// <summary>"full", "vqtoken-fixed" or "vqtoken-adaptive".</summary>
    public static string WireName(this CompressionMode mode) => mode switch
    {
        CompressionMode.Full => "full",
        CompressionMode.VQTokenFixed => "vqtoken-fixed",
        CompressionMode.VQTokenAdaptive => "vqtoken-adaptive",
        _ => throw new ArgumentOutOfRangeException(nameof(mode)),
    };

    /// <summary>Parses a wire name; the short forms "fixed" and "adaptive" are accepted too.</summary>
    public static bool TryParse(string? name, out CompressionMode mode)
    {
        switch (name?.Trim().ToLowerInvariant())
        {
            case "full": mode = CompressionMode.Full; return true;
            case "vqtoken-fixed" or "fixed": mode = CompressionMode.VQTokenFixed; return true;
            case "vqtoken-adaptive" or "adaptive": mode = CompressionMode.VQTokenAdaptive; return true;
            default: mode = default; return false;
        }
    }
}
