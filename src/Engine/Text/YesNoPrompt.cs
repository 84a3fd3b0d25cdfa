namespace VQToken.Engine.Text;

/// <summary>
/// The fixed yes/no template that library search scores with: the <c>qwen_1_5</c> chat prompt
/// (<see cref="ChatTemplate"/>, default system prompt) whose user turn is
/// <c>&lt;image&gt;\n{question} Answer yes or no.</c>, ending with the assistant turn open
/// (<c>&lt;|im_start|&gt;assistant\n</c>), so the next token is the answer's first.
/// </summary>
/// <remarks>The answer ids are the first tokens of "Yes" and "No" as the tokenizer encodes them at the
/// start of a turn, without a leading space (the assistant header ends in a newline): one token each
/// with Qwen2's vocabulary. " Yes" (with the space) is a different token and is not used.</remarks>
public sealed class YesNoPrompt
{
    public const string Instruction = " Answer yes or no.";
    public const string YesText = "Yes", NoText = "No";

    private readonly ChatTemplate _template;

    public YesNoPrompt(QwenTokenizer tokenizer)
    {
        _template = new ChatTemplate(tokenizer);
        YesId = tokenizer.EncodePlainText(YesText)[0];
        NoId = tokenizer.EncodePlainText(NoText)[0];
        if (YesId == NoId) throw new ArgumentException($"the tokenizer starts \"{YesText}\" and \"{NoText}\" with the same token, so it cannot tell them apart");
    }

    public int YesId { get; }
    public int NoId { get; }

    /// <summary>The user turn's text for <paramref name="question"/>.</summary>
    public static string UserText(string question)
    {
        if (string.IsNullOrWhiteSpace(question)) throw new ArgumentException("the question is empty", nameof(question));
        return question.Trim() + Instruction;
    }

    /// <summary>Prompt ids (one image position) for <paramref name="question"/>, ready for the answer's first token.</summary>
    public int[] Build(string question) => _template.BuildPrompt(UserText(question));
}
