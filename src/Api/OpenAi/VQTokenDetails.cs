using System.Text.Json.Serialization;
using VQToken.Api.Ask;
using VQToken.Api.Videos;

namespace VQToken.Api.OpenAi;

/// <summary>The <c>vqtoken</c> extension of a completion: which video answered, from how many tokens, and
/// what came from caches (codebook: no vision pass; prefix: the KV cache of the prompt prefix was reused); with
/// <c>vqtoken.evidence</c> in the request, where the answer looked.</summary>
public sealed record VQTokenDetails(
    [property: JsonPropertyName("video_id")] string VideoId,
    [property: JsonPropertyName("visual_tokens")] int VisualTokens,
    [property: JsonPropertyName("compression")] VQTokenCompression Compression,
    [property: JsonPropertyName("cache")] VQTokenCache Cache,
    [property: JsonPropertyName("evidence"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] VQTokenEvidence? Evidence = null)
{
    public static VQTokenDetails From(PreparedVideo video, Answer answer)
    {
        var encoding = video.Encoding;
        return new VQTokenDetails(video.Record.Id, encoding.VisualTokens,
            VQTokenCompression.From(AskCompression.Of(video)),
            new VQTokenCache(video.CodebookFromCache ? "hit" : "miss", answer.Engine.PrefixCacheHit ? "hit" : "miss"),
            answer.Evidence is { } e ? new VQTokenEvidence(e.VisualShare, e.AnswerTokens, e.Frames, e.Clusters, e.Picture) : null);
    }
}
