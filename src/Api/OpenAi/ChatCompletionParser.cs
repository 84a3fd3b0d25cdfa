using System.Text.Json;
using VQToken.Api.Ask;
using VQToken.Engine.Text;

namespace VQToken.Api.OpenAi;

/// <summary>Turns an OpenAI chat completion request into a <see cref="ChatCompletionCall"/>, or the errors by
/// field (named as in OpenAI's schema: <c>messages[1].content[0]</c>, <c>max_tokens</c>, <c>top_p</c>…).</summary>
/// <remarks>Accepted video forms, exactly one per request, in a user message: a <c>video_url</c> part with an
/// http(s) URL or <c>vqtoken://videos/{id}</c> (<c>video_url</c> may be <c>{"url": …}</c> or the bare string), a
/// <c>{"type":"video","video_id":…}</c> part, or the top-level <c>video_id</c> extension. Leading system and
/// developer messages become one system message; the conversation must end with a user message. Wherever the
/// video part stands, the chat template puts the video at the start of the first user message (LLaVA's layout).</remarks>
public static class ChatCompletionParser
{
    public const int MaxMessages = 256;
    public const int MaxModelChars = 256;
    public const int MaxUrlChars = 4096;

    /// <summary>OpenAI's names for the fields <see cref="VideoAnswerer.Validate"/> reports.</summary>
    private static readonly Dictionary<string, string> SamplingFieldNames = new()
    {
        ["temperature"] = "temperature", ["topP"] = "top_p", ["topK"] = "top_k", ["stop"] = "stop",
    };

    public static (ChatCompletionCall? Call, Dictionary<string, string[]> Errors) Parse(ChatCompletionRequest request, VideoAnswerer answerer)
    {
        var errors = new Dictionary<string, string[]>();
        var videos = new List<VideoReference>();
        var messages = ReadConversation(request.Messages, videos, errors, answerer.Options.MaxQuestionChars);
        if (errors.Count == 0 && answerer.PromptTooLong(messages) is { } tooLong) errors["messages"] = [tooLong];

        if (request.VideoId is { } videoId)
        {
            if (string.IsNullOrWhiteSpace(videoId)) errors["video_id"] = ["video_id must not be empty"];
            else videos.Add(VideoReference.ForId(videoId.Trim()));
        }
        if (videos.Count == 0 && !errors.ContainsKey("messages"))
            errors["messages"] = ["a video is required: add a video_url (or video) part to a user message, or give video_id"];
        if (videos.Count > 1)
            errors["messages"] = [$"exactly one video per request is supported; this request names {videos.Count}"];

        var model = string.IsNullOrWhiteSpace(request.Model) ? OpenAiModel.Id : request.Model.Trim();
        if (model.Length > MaxModelChars) errors["model"] = [$"model must be at most {MaxModelChars} characters"];
        if (request.N is { } n && n != 1) errors["n"] = ["only n = 1 is supported"];

        var stop = ReadStop(request.Stop, errors);
        string maxName = request.MaxCompletionTokens is null ? "max_tokens" : "max_completion_tokens";
        var (parameters, samplingErrors) = answerer.Validate(
            request.MaxCompletionTokens ?? request.MaxTokens, request.Temperature, request.TopP, request.TopK, request.Seed, stop);
        foreach (var (field, messagesOfField) in samplingErrors)
        {
            string name = field == "maxNewTokens" ? maxName : SamplingFieldNames.GetValueOrDefault(field, field);
            errors[name] = messagesOfField.Select(m => m.StartsWith(field, StringComparison.Ordinal) ? name + m[field.Length..] : m).ToArray();
        }

        if (errors.Count > 0 || parameters is null) return (null, errors);
        parameters = parameters with { Evidence = request.VQToken?.Evidence == true };
        return (new ChatCompletionCall(model, messages, videos[0], parameters, request.Stream == true, request.StreamOptions?.IncludeUsage == true), errors);
    }

    /// <summary>A one-line summary of the errors (the problem's detail, and the OpenAI error message).</summary>
    public static string Describe(Dictionary<string, string[]> errors) =>
        string.Join("; ", errors.Select(e => $"{e.Key}: {string.Join(", ", e.Value)}"));

    private static List<ChatMessage> ReadConversation(IReadOnlyList<ChatCompletionRequestMessage?>? messages, List<VideoReference> videos,
        Dictionary<string, string[]> errors, int maxChars)
    {
        var system = new List<string>();
        var turns = new List<ChatMessage>();
        if (messages is null || messages.Count == 0)
        {
            errors["messages"] = ["messages must hold at least one user message"];
            return turns;
        }
        if (messages.Count > MaxMessages)
        {
            errors["messages"] = [$"at most {MaxMessages} messages are supported"];
            return turns;
        }
        for (int i = 0; i < messages.Count; i++)
        {
            string field = $"messages[{i}]";
            var message = messages[i];
            string? role = message?.Role?.Trim().ToLowerInvariant();
            switch (role)
            {
                case "system" or "developer":
                    if (turns.Count > 0) errors[field + ".role"] = ["system and developer messages must come before the user and assistant messages"];
                    if (ReadContent(message!.Content, field, videoAllowed: false, nullAllowed: false, videos, errors) is { } instructions) system.Add(instructions);
                    break;
                case "user":
                    if (ReadContent(message!.Content, field, videoAllowed: true, nullAllowed: false, videos, errors) is { } question)
                        turns.Add(new ChatMessage(ChatRole.User, question));
                    break;
                case "assistant":
                    if (ReadContent(message!.Content, field, videoAllowed: false, nullAllowed: true, videos, errors) is { } answer)
                        turns.Add(new ChatMessage(ChatRole.Assistant, answer));
                    break;
                case null or "":
                    errors[field + ".role"] = ["role is required"];
                    break;
                default:
                    errors[field + ".role"] = [$"role '{role}' is not supported: use system, developer, user or assistant"];
                    break;
            }
        }
        if (errors.Count == 0 && (turns.Count == 0 || turns[^1].Role != ChatRole.User))
            errors["messages"] = ["the last message must be a user message (the model answers it)"];
        int chars = system.Sum(s => s.Length) + turns.Sum(t => t.Content.Length);
        if (chars > maxChars) errors["messages"] = [$"the messages hold {chars} characters; at most {maxChars} are accepted (Ask:MaxQuestionChars)"];

        var conversation = new List<ChatMessage>();
        if (system.Count > 0) conversation.Add(new ChatMessage(ChatRole.System, string.Join("\n\n", system)));
        conversation.AddRange(turns);
        return conversation;
    }

    /// <summary>The text of a message (text parts joined by newlines); videos go to <paramref name="videos"/>.</summary>
    private static string? ReadContent(JsonElement? content, string field, bool videoAllowed, bool nullAllowed,
        List<VideoReference> videos, Dictionary<string, string[]> errors)
    {
        field += ".content";
        if (content is not { ValueKind: not JsonValueKind.Null } value)
        {
            if (nullAllowed) return "";
            errors[field] = ["content is required"];
            return null;
        }
        if (value.ValueKind == JsonValueKind.String) return value.GetString()!;
        if (value.ValueKind != JsonValueKind.Array)
        {
            errors[field] = ["content must be a string or an array of content parts"];
            return null;
        }
        var texts = new List<string>();
        int index = 0;
        foreach (var part in value.EnumerateArray())
        {
            string partField = $"{field}[{index++}]";
            string? type = part.ValueKind == JsonValueKind.Object && part.TryGetProperty("type", out var t) && t.ValueKind == JsonValueKind.String ? t.GetString() : null;
            switch (type)
            {
                case "text":
                    if (String(part, "text") is { } text) texts.Add(text);
                    else errors[partField] = ["a text part needs a string 'text'"];
                    break;
                case "video_url" or "video":
                    if (!videoAllowed) errors[partField] = ["a video belongs in a user message"];
                    else if (ReadVideo(part, type, partField, errors) is { } video) videos.Add(video);
                    break;
                case "image_url":
                    errors[partField] = ["images are not supported: send a video (a video_url or video part)"];
                    break;
                case null:
                    errors[partField] = ["a content part is an object with a string 'type'"];
                    break;
                default:
                    errors[partField] = [$"content part type '{type}' is not supported: use text, video_url or video"];
                    break;
            }
        }
        return string.Join("\n", texts);
    }

    private static VideoReference? ReadVideo(JsonElement part, string type, string field, Dictionary<string, string[]> errors)
    {
        if (type == "video")
        {
            if (String(part, "video_id") is { } id && !string.IsNullOrWhiteSpace(id)) return VideoReference.ForId(id.Trim());
            errors[field] = ["a video part needs a string 'video_id' (the id of an uploaded video)"];
            return null;
        }
        string? url = part.TryGetProperty("video_url", out var v) ? v.ValueKind switch
        {
            JsonValueKind.String => v.GetString(),
            JsonValueKind.Object => String(v, "url"),
            _ => null,
        } : null;
        if (string.IsNullOrWhiteSpace(url))
        {
            errors[field] = ["a video_url part needs 'video_url': {\"url\": …}"];
            return null;
        }
        url = url.Trim();
        if (url.StartsWith(VideoReference.UrlPrefix, StringComparison.OrdinalIgnoreCase))
            return VideoReference.ForId(url[VideoReference.UrlPrefix.Length..]);
        if (url.Length <= MaxUrlChars && Uri.TryCreate(url, UriKind.Absolute, out var uri) && (uri.Scheme == Uri.UriSchemeHttp || uri.Scheme == Uri.UriSchemeHttps))
            return VideoReference.ForUrl(uri);
        errors[field] = [$"video_url.url must be an absolute http(s) URL (at most {MaxUrlChars} characters) or {VideoReference.UrlPrefix}{{id}} for an uploaded video"];
        return null;
    }

    private static IReadOnlyList<string>? ReadStop(JsonElement? stop, Dictionary<string, string[]> errors)
    {
        if (stop is not { ValueKind: not JsonValueKind.Null } value) return null;
        if (value.ValueKind == JsonValueKind.String) return [value.GetString()!];
        if (value.ValueKind == JsonValueKind.Array && value.EnumerateArray().All(s => s.ValueKind == JsonValueKind.String))
            return value.EnumerateArray().Select(s => s.GetString()!).ToList();
        errors["stop"] = ["stop must be a string or an array of strings"];
        return null;
    }

    private static string? String(JsonElement element, string name) =>
        element.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;
}
