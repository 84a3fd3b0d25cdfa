using VQToken.Api.Ask;
using VQToken.Engine.Text;

namespace VQToken.Api.OpenAi;

/// <summary>A validated chat completion request: the conversation for the chat template, the one video,
/// the generation parameters and how to answer (streamed or not).</summary>
public sealed record ChatCompletionCall(
    string Model, IReadOnlyList<ChatMessage> Messages, VideoReference Video, AskParameters Parameters, bool Stream, bool IncludeUsage);
