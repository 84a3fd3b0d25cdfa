using System.Text.Json.Serialization;
using VQToken.Api.Ask;

namespace VQToken.Api.OpenAi;

/// <summary>Where the answer looked (docs/EVIDENCE.md), as <c>POST /videos/{id}/ask</c> returns it with snake_case names:
/// the visual share of the attention, the answer tokens it averages over, frames (index, time, score; top first), clusters
/// (index, mass, cells), the picture's address.</summary>
public sealed record VQTokenEvidence(
    [property: JsonPropertyName("visual_share")] double VisualShare,
    [property: JsonPropertyName("answer_tokens")] int AnswerTokens,
    [property: JsonPropertyName("frames")] IReadOnlyList<EvidenceFrame> Frames,
    [property: JsonPropertyName("clusters")] IReadOnlyList<EvidenceCluster> Clusters,
    [property: JsonPropertyName("picture")] string? Picture);
