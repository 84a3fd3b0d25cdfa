using System.Text.Json;
using System.Text.Json.Nodes;
using VQToken.Api.Ask;
using VQToken.Api.Search;
using VQToken.Api.Videos;

using VQToken.Api.ServiceDefaults;

namespace VQToken.Api.OpenApi;

/// <summary>Examples of the API's bodies for the OpenAPI document, made from the real contract types so
/// they change (or stop compiling) with them.</summary>
public static class ApiExamples
{
    private const string Id = "01jz8k3q4m5n6p7r8s9t0v1w2x";
    private static readonly DateTimeOffset Created = new(2025, 6, 1, 12, 0, 0, TimeSpan.Zero);

    public static readonly VideoResponse QueuedVideo = new(
        Id, "queued", null, new VideoSourceView("upload", "clip.mp4"), new VideoSettingsView(32, null, null, null, null, "vqtoken-adaptive", null, 12, 32, "official", "codebook"),
        null, new VideoProbeView(12.5, 30, 1280, 720, "h264"), null, new Dictionary<string, double>(), Created, Created);

    public static readonly VideoResponse ProcessingVideo = QueuedVideo with
    {
        Status = "processing", Progress = new VideoProgressView("vision", 0.5, 16, 32, 1.8), UpdatedAt = Created.AddSeconds(2),
    };

    public static readonly VideoResponse ReadyVideo = QueuedVideo with
    {
        Status = "ready", Progress = new VideoProgressView("ready", 1, 32, 32, 0), Tokens = new VideoTokensView(23_328, 13, 13 / 23_328.0),
        TimingsMs = new Dictionary<string, double> { ["frames"] = 410, ["vision"] = 1830, ["compress"] = 95, ["total"] = 2380 },
        UpdatedAt = Created.AddSeconds(3),
    };

    public static readonly VideoListResponse VideoList = new([ReadyVideo], null);

    public static readonly AskRequestBody AskRequest = new() { Question = "What is the person holding?", MaxNewTokens = 64, Temperature = 0 };

    public static readonly AskResponse AskAnswer = new(
        "The person is holding a red umbrella.", "stop", new AskUsage(13, 41, 9), new AskCompression("vqtoken-adaptive", 12, 23_328, 13 / 23_328.0, "official", "codebook"),
        new AskTimings(0.4, 38.2, 95.7, 141.3), new AskCacheInfo("hit", "miss"));

    public static readonly SearchRequestBody SearchRequest = new() { Question = "Is there a dog on a beach?", Top = 2 };

    public static readonly SearchResponse SearchAnswer = new("Is there a dog on a beach?",
    [
        new SearchResult(1, Id, "beach.mp4", 1.87, -0.14, -2.01, Created, $"/videos/{Id}/clusters.png", 13, "hit"),
        new SearchResult(2, "01jz8k3q4m5n6p7r8s9t0v1w2y", "kitchen.mp4", -2.65, -2.72, -0.07, Created.AddMinutes(5), "/videos/01jz8k3q4m5n6p7r8s9t0v1w2y/clusters.png", 17, "hit"),
    ], Scored: 3, Skipped: 0, Truncated: false, TotalMs: 412.6);

    /// <summary>The events of a streamed <c>POST /videos/search</c>.</summary>
    public static string SearchEventStream =>
        Event("progress", new SearchProgressEvent(0, 3)) + Event("progress", new SearchProgressEvent(1, 3)) +
        Event("progress", new SearchProgressEvent(2, 3)) + Event("progress", new SearchProgressEvent(3, 3)) + Event("done", SearchAnswer);

    /// <summary>The events of <c>GET /videos/{id}/events</c> for a video that becomes ready.</summary>
    public static string VideoEventStream =>
        Event("progress", ProcessingVideo) + Event("ready", ReadyVideo);

    /// <summary>The events of a streamed <c>POST /videos/{id}/ask</c>.</summary>
    public static string AskEventStream =>
        Event("token", new AskTokenEvent("The person")) + Event("token", new AskTokenEvent(" is holding")) +
        Event("token", new AskTokenEvent(" a red umbrella.")) + Event("done", AskAnswer);

    /// <summary>A problem as this service writes it for <paramref name="status"/>.</summary>
    public static JsonNode Problem(int status)
    {
        var (type, title, detail) = status switch
        {
            400 => (Problems.Validation, "The request is invalid", "invalid video settings"),
            401 => (Problems.Unauthorized, "A valid API key is required", "send the key in the X-Api-Key header (or Authorization: Bearer)"),
            404 => (Problems.NotFound, "Video not found", $"no video '{Id}'"),
            409 => (Problems.NotReady, "The video is not ready yet", $"video '{Id}' is processing; follow GET /videos/{Id}/events and ask again when it is ready"),
            410 => (Problems.NotFound, "The video was deleted", $"video '{Id}' was deleted while it was being stored"),
            413 => (Problems.TooLarge, "The video is too large", "the upload exceeds 2147483648 bytes"),
            415 => (Problems.UnsupportedMedia, "The content is not a video", "ffprobe found no video stream"),
            422 => (Problems.UndecodableVideo, "The video cannot be decoded", "no frame could be decoded"),
            429 => (Problems.Overloaded, "The service is overloaded", "the engine queue is full; retry after the Retry-After delay"),
            503 => (Problems.NotReady, "The model is not ready", "the model is loading"),
            504 => (Problems.Timeout, "The answer took too long", "the answer did not finish within 600 s"),
            _ => (Problems.Internal, "An error occurred", null),
        };
        var problem = Problems.Create(status, type, title, detail);
        var node = JsonSerializer.SerializeToNode(problem, JsonSerializerOptions.Web)!.AsObject();
        node["traceId"] = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
        return node;
    }

    public static JsonNode Json<T>(T value) => JsonSerializer.SerializeToNode(value, JsonSerializerOptions.Web)!;

    private static string Event<T>(string name, T payload) =>
        $"event: {name}\ndata: {JsonSerializer.Serialize(payload, JsonSerializerOptions.Web)}\n\n";
}
