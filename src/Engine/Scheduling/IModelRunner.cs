namespace VQToken.Engine.Scheduling;

/// <summary>The next <see cref="Length"/> prefix positions of an ask.</summary>
public readonly record struct PrefixChunk(ScheduledAsk Ask, int Length);

/// <summary>Question positions [From, From + Count) of an ask.</summary>
public readonly record struct QuestionChunk(ScheduledAsk Ask, int From, int Count)
{
    public bool Completes => From + Count == Ask.QuestionIds.Length;
}

/// <summary>Frames [From, From + Count) of a video.</summary>
public readonly record struct FrameSlice(ScheduledEncode Encode, int From, int Count);

/// <summary>What the scheduler asks of the device (the model runner, or a fake in tests). Every call is
/// bounded work; a request's tensors live in the runner until <see cref="Release"/>.</summary>
public interface IModelRunner
{
    /// <summary>Gives the ask its KV cache, from the prefix cache when it holds the ask's prefix; returns
    /// the prefix positions still to compute (0 on a hit).</summary>
    int StartAsk(ScheduledAsk ask);

    /// <summary>Runs the next prefix positions into the ask's cache (from <see cref="ScheduledAsk.PrefixDone"/>).</summary>
    void PrefillPrefix(PrefixChunk chunk);

    /// <summary>Runs question chunks of several asks as one batch; returns, per chunk, the first sampled
    /// token of an ask whose question is now complete (null for the others); a completed scoring request
    /// (<see cref="ScheduledAsk.ScoresOnly"/>) gets its answer log-probabilities recorded instead of a sampler.</summary>
    IReadOnlyList<long?> PrefillQuestions(IReadOnlyList<QuestionChunk> chunks);

    /// <summary>One decode step: each ask's <see cref="ScheduledAsk.Next"/> in, its next sampled token out.</summary>
    IReadOnlyList<long> Decode(IReadOnlyList<ScheduledAsk> asks);

    /// <summary>One vision batch over frames of one or more videos; adds its time to each video's VisionMs.</summary>
    void EncodeFrames(IReadOnlyList<FrameSlice> slices);

    /// <summary>Every frame is encoded: starts the compression; true when it is already complete (full mode).</summary>
    bool StartCompression(ScheduledEncode encode);

    /// <summary>One slice of the video's compression; true when it is complete.</summary>
    bool CompressSlice(ScheduledEncode encode);

    /// <summary>Frees what the runner holds for the request (finished, failed or cancelled).</summary>
    void Release(ScheduledRequest request);
}
