using System.Text.Json.Nodes;

using VQToken.Api.ServiceDefaults;

namespace VQToken.Api.OpenApi;

/// <summary>Examples of the OpenAI-compatible bodies (<c>/v1</c>) for the OpenAPI document, written as the
/// wire JSON (snake_case, as OpenAI clients send and read it).</summary>
public static class OpenAiExamples
{
    private const string Model = "vqtoken-llava-ov-0.5b";
    private const string VideoId = "01jz8k3q4m5n6p7r8s9t0v1w2x";

    public static JsonNode ChatRequest => JsonNode.Parse($$"""
        {"model": "{{Model}}", "max_tokens": 64, "temperature": 0,
         "messages": [{"role": "user", "content": [
           {"type": "text", "text": "What is the person holding?"},
           {"type": "video_url", "video_url": {"url": "vqtoken://videos/{{VideoId}}"} }]}]}
        """)!;

    public static JsonNode ChatResponse => JsonNode.Parse($$"""
        {"object": "chat.completion", "id": "chatcmpl-5f0c2d1e9a8b", "created": 1748779200, "model": "{{Model}}",
         "system_fingerprint": "fp_4b48d87fd4b7",
         "choices": [{"index": 0, "message": {"role": "assistant", "content": "The person is holding a red umbrella."}, "finish_reason": "stop", "logprobs": null}],
         "usage": {"prompt_tokens": 41, "completion_tokens": 9, "total_tokens": 50},
         "vqtoken": {"video_id": "{{VideoId}}", "visual_tokens": 13,
           "compression": {"mode": "vqtoken-adaptive", "k": 12, "original_tokens": 23328, "ratio": 0.0005573,
             "elbow": "official", "tokens": "codebook"},
           "cache": {"codebook": "hit", "prefix": "miss"} } }
        """)!;

    public static string ChatStream =>
        Chunk("""{"role": "assistant", "content": ""}""", "null") + Chunk("""{"content": "The person is holding"}""", "null") +
        Chunk("""{"content": " a red umbrella."}""", "null") + Chunk("{}", "\"stop\"") + "data: [DONE]\n\n";

    public static JsonNode ModelCard => JsonNode.Parse($$"""{"object": "model", "id": "{{Model}}", "created": 1735689600, "owned_by": "vqtoken"}""")!;

    public static JsonNode ModelList => new JsonObject { ["object"] = "list", ["data"] = new JsonArray(ModelCard) };

    private static string Chunk(string delta, string finishReason) =>
        $$"""data: {"object":"chat.completion.chunk","id":"chatcmpl-5f0c2d1e9a8b","created":1748779200,"model":"{{Model}}","system_fingerprint":"fp_4b48d87fd4b7","choices":[{"index":0,"delta":{{delta}},"finish_reason":{{finishReason}},"logprobs":null}]}""" + "\n\n";
}
