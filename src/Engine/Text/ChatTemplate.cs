using System.Text;

namespace VQToken.Engine.Text;

/// <summary>
/// LLaVA-OneVision's <c>qwen_1_5</c> chat template (ChatML). A single question gives exactly
/// <code>
/// &lt;|im_start|&gt;system\nYou are a helpful assistant.&lt;|im_end|&gt;\n&lt;|im_start|&gt;user\n&lt;image&gt;\n{question}&lt;|im_end|&gt;\n&lt;|im_start|&gt;assistant\n
/// </code>
/// and the prompt ids hold <see cref="ImageTokenIndex"/> (-200) where &lt;image&gt; stands, as LLaVA's
/// <c>tokenizer_image_token</c> makes them (the text before and after &lt;image&gt; encoded apart).
/// </summary>
/// <remarks>
/// Injection: message contents are always encoded as plain text. "&lt;|im_end|&gt;", "&lt;|im_start|&gt;",
/// "&lt;|endoftext|&gt;" or "&lt;image&gt;" typed by a user become the ordinary tokens of those characters
/// (as with Hugging Face's <c>split_special_tokens=True</c>), so a client can neither close its turn,
/// write an assistant turn of its own, nor add a second image. Only the template itself places
/// special ids and the single image marker. For contents without such strings the ids are exactly
/// Hugging Face's encoding of the rendered prompt.
/// </remarks>
public sealed class ChatTemplate(QwenTokenizer tokenizer)
{
    /// <summary>LLaVA's IMAGE_TOKEN_INDEX: the id that marks where the visual tokens go.</summary>
    public const int ImageTokenIndex = -200;

    /// <summary>LLaVA's DEFAULT_IMAGE_TOKEN, as written in a rendered prompt.</summary>
    public const string ImagePlaceholder = "<image>";

    public const string DefaultSystemPrompt = "You are a helpful assistant.";

    /// <summary>Prompt ids for one question about the video (the image in the user turn).</summary>
    public int[] BuildPrompt(string question) => BuildPrompt([new ChatMessage(ChatRole.User, question)]);

    /// <summary>
    /// Prompt ids for a conversation: an optional leading system message (else the default one),
    /// then user/assistant turns ending with a user turn. The image goes at the start of the first
    /// user turn; the prompt ends with the assistant header, ready for generation.
    /// </summary>
    public int[] BuildPrompt(IReadOnlyList<ChatMessage> messages)
    {
        var ids = new List<int>();
        var text = new StringBuilder();
        void FlushText()
        {
            ids.AddRange(tokenizer.EncodePlainText(text.ToString()));
            text.Clear();
        }

        foreach (Piece piece in Layout(messages))
        {
            switch (piece.Kind)
            {
                case PieceKind.Text:
                    text.Append(piece.Text);
                    break;
                case PieceKind.Special:
                    FlushText();
                    ids.Add(tokenizer.AddedTokenId(piece.Text)!.Value);
                    break;
                case PieceKind.Image:
                    FlushText();
                    ids.Add(ImageTokenIndex);
                    break;
            }
        }
        FlushText();
        return ids.ToArray();
    }

    /// <summary>The prompt as text, with &lt;image&gt; where the visual tokens go (for logs and tests).</summary>
    public static string Render(string question) => Render([new ChatMessage(ChatRole.User, question)]);

    /// <inheritdoc cref="Render(string)"/>
    public static string Render(IReadOnlyList<ChatMessage> messages) =>
        string.Concat(Layout(messages).Select(p => p.Kind == PieceKind.Image ? ImagePlaceholder : p.Text));

    private enum PieceKind { Text, Special, Image }

    private readonly record struct Piece(PieceKind Kind, string Text)
    {
        public static Piece Plain(string text) => new(PieceKind.Text, text);
        public static Piece Special(string token) => new(PieceKind.Special, token);
        public static readonly Piece Image = new(PieceKind.Image, "");
    }

    private static IEnumerable<Piece> Layout(IReadOnlyList<ChatMessage> messages)
    {
        Validate(messages);
        bool hasSystem = messages[0].Role == ChatRole.System;
        foreach (var piece in Turn("system", hasSystem ? messages[0].Content : DefaultSystemPrompt, withImage: false))
            yield return piece;

        bool imagePlaced = false;
        foreach (ChatMessage message in messages.Skip(hasSystem ? 1 : 0))
        {
            bool withImage = message.Role == ChatRole.User && !imagePlaced;
            imagePlaced |= withImage;
            foreach (var piece in Turn(message.Role == ChatRole.User ? "user" : "assistant", message.Content, withImage))
                yield return piece;
        }

        yield return Piece.Special(QwenTokenizer.ImStart);
        yield return Piece.Plain("assistant\n");
    }

    /// <summary>&lt;|im_start|&gt;{role}\n[&lt;image&gt;\n]{content}&lt;|im_end|&gt;\n</summary>
    private static IEnumerable<Piece> Turn(string role, string content, bool withImage)
    {
        yield return Piece.Special(QwenTokenizer.ImStart);
        yield return Piece.Plain(role + "\n");
        if (withImage)
        {
            yield return Piece.Image;
            yield return Piece.Plain("\n");
        }
        yield return Piece.Plain(content);
        yield return Piece.Special(QwenTokenizer.ImEnd);
        yield return Piece.Plain("\n");
    }

    private static void Validate(IReadOnlyList<ChatMessage> messages)
    {
        ArgumentNullException.ThrowIfNull(messages);
        if (messages.Count == 0) throw new ArgumentException("A prompt needs at least one user message.", nameof(messages));
        for (int i = 0; i < messages.Count; i++)
        {
            if (messages[i] is null || messages[i].Content is null)
                throw new ArgumentException($"Message {i} has no content.", nameof(messages));
            if (messages[i].Role == ChatRole.System && i > 0)
                throw new ArgumentException("Only the first message may be a system message.", nameof(messages));
            if (!Enum.IsDefined(messages[i].Role))
                throw new ArgumentException($"Message {i} has an unknown role.", nameof(messages));
        }
        if (messages[^1].Role != ChatRole.User)
            throw new ArgumentException("The last message must be the user's (the model answers it).", nameof(messages));
    }
}
