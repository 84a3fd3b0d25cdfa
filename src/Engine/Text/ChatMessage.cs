namespace VQToken.Engine.Text;

/// <summary>Who wrote a chat message (OpenAI's "system", "user", "assistant").</summary>
public enum ChatRole
{
    System,
    User,
    Assistant,
}

/// <summary>One turn of a conversation; <see cref="Content"/> is plain text, never markup.</summary>
public sealed record ChatMessage(ChatRole Role, string Content);
