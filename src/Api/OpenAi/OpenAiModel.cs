namespace VQToken.Api.OpenAi;

/// <summary>The one model the service serves, as OpenAI clients name it.</summary>
public static class OpenAiModel
{
    /// <summary>Stable id: LLaVA-OneVision-0.5B with VQToken compression.</summary>
    public const string Id = "vqtoken-llava-ov-0.5b";
    public const string OwnedBy = "vqtoken";

    /// <summary>A fixed "created" time for the model card (Unix seconds, 2025-01-01).</summary>
    public const long Created = 1_735_689_600;

    public static ModelCard Card => new(Id, Created, OwnedBy);

    /// <summary>OpenAI's <c>system_fingerprint</c>: changes when the checkpoint changes.</summary>
    public static string SystemFingerprint(string modelFingerprint) =>
        "fp_" + (modelFingerprint.Length > 12 ? modelFingerprint[..12] : modelFingerprint);
}
