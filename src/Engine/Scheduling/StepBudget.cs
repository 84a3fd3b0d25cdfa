namespace VQToken.Engine.Scheduling;

/// <summary>What one engine step may do at most (from <c>Engine</c> settings).</summary>
/// <param name="MaxSequences">Asks in prefill or decode together (the decode batch).</param>
/// <param name="MaxPrefillsPerStep">Asks that start their prefill in one step.</param>
/// <param name="PrefillChunkTokens">Prompt positions prefilled per step, and per chunk of one prompt.</param>
/// <param name="MaxBatchFrames">Frames through the vision tower in one step (across videos).</param>
public sealed record StepBudget(int MaxSequences, int MaxPrefillsPerStep, int PrefillChunkTokens, int MaxBatchFrames)
{
    public static StepBudget From(Runtime.EngineOptions options) =>
        new(options.MaxBatchSequences, options.MaxPrefillsPerStep, options.PrefillChunkTokens, options.MaxBatchFrames);
}
