using System.ComponentModel.DataAnnotations;

namespace VQToken.Api.Ask;

/// <summary>Limits of questions and answers (section <c>Ask</c>).</summary>
public sealed class AskOptions
{
    public const string Section = "Ask";
    [Range(1, 32_768)] public int MaxNewTokens { get; set; } = 1024;
    [Range(1, 32_768)] public int DefaultMaxNewTokens { get; set; } = 128;
    [Range(1, 1_000_000)] public int MaxQuestionChars { get; set; } = 8_000;
    /// <summary>Longest prompt in tokens (the question or conversation with the chat template, without
    /// the video): bounds the prefill one ask costs.</summary>
    [Range(1, 1_000_000)] public int MaxQuestionTokens { get; set; } = 2_048;
    /// <summary>How long an ask waits for a video that is still processing.</summary>
    [Range(0, 86_400)] public double WaitForVideoSeconds { get; set; } = 600;
    /// <summary>Deadline of one ask once its video is ready (queueing + generation).</summary>
    [Range(1, 86_400)] public double DeadlineSeconds { get; set; } = 600;
    /// <summary>Compressed videos kept in memory per replica (saves reading the cache entry).</summary>
    [Range(0, 1_000_000)] public int EncodingCacheEntries { get; set; } = 256;
    /// <summary>Memory for recent answers' evidence per replica, kept for their heat pictures; 0 = no pictures.</summary>
    [Range(0L, long.MaxValue)] public long EvidenceCacheBytes { get; set; } = 32L << 20;
}
