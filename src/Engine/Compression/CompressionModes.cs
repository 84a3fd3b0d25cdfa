namespace VQToken.Engine.Compression;

/// <summary>Wire names of <see cref="CompressionMode"/>, <see cref="TokenPath"/> and <see cref="ElbowIndexing"/>:
/// the one place they are parsed and printed.</summary>
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

    /// <summary>"codebook" or "attention".</summary>
    public static string WireName(this TokenPath path) => path switch
    {
        TokenPath.Codebook => "codebook",
        TokenPath.Attention => "attention",
        _ => throw new ArgumentOutOfRangeException(nameof(path)),
    };

    /// <summary>"official" or "centered".</summary>
    public static string WireName(this ElbowIndexing elbow) => elbow switch
    {
        ElbowIndexing.Official => "official",
        ElbowIndexing.Centered => "centered",
        _ => throw new ArgumentOutOfRangeException(nameof(elbow)),
    };

    /// <summary>Parses "codebook" or "attention".</summary>
    public static bool TryParseTokenPath(string? name, out TokenPath path)
    {
        switch (name?.Trim().ToLowerInvariant())
        {
            case "codebook": path = TokenPath.Codebook; return true;
            case "attention": path = TokenPath.Attention; return true;
            default: path = default; return false;
        }
    }

    /// <summary>Parses "official" or "centered".</summary>
    public static bool TryParseElbow(string? name, out ElbowIndexing elbow)
    {
        switch (name?.Trim().ToLowerInvariant())
        {
            case "official": elbow = ElbowIndexing.Official; return true;
            case "centered": elbow = ElbowIndexing.Centered; return true;
            default: elbow = default; return false;
        }
    }
}
