namespace VQToken.Engine.Compression;

/// <summary>How a video's visual tokens reach the language model. Wire names (API, CLI, cache):
/// <c>full</c>, <c>vqtoken-fixed</c>, <c>vqtoken-adaptive</c> (see <see cref="CompressionModes"/>).</summary>
public enum CompressionMode
{
    /// <summary>Baseline LLaVA-OneVision: all pooled frame tokens, no clustering (handled by the model path).</summary>
    Full,

    /// <summary>VQToken with a fixed number K of codebook entries.</summary>
    VQTokenFixed,

    /// <summary>VQToken with K chosen per video in [Kmin, Kmax] by the elbow rule.</summary>
    VQTokenAdaptive,
}
