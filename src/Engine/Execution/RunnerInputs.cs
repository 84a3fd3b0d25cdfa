using VQToken.Engine.Runtime;

namespace VQToken.Engine.Execution;

/// <summary>What the model runner reads from an ask beyond the scheduler's view: the caller's request
/// (the video's encoding, the sampling options).</summary>
internal interface IAskInput
{
    AskRequest Request { get; }
    /// <summary>Set by the runner for an evidence ask: where each produced token's visual attention goes.</summary>
    Output.EvidenceCollector? Evidence { get; set; }
}

/// <summary>A scoring request's answer ids, and where the runner leaves their log-probabilities at the first answer position.</summary>
internal interface IScoreInput
{
    int YesId { get; }
    int NoId { get; }
    void Record(double logProbYes, double logProbNo);
}

/// <summary>What the model runner reads from a video encoding (its frames, mode and settings) and where it
/// leaves the result.</summary>
internal interface IEncodeInput
{
    EncodeRequest Request { get; }
    VideoEncoding? Encoding { get; set; }
    /// <summary>Frames [from, from + count) as the vision tower's input (a streamed video hands over its next frames).</summary>
    TorchSharp.torch.Tensor Pixels(int from, int count, TorchSharp.torch.Device device);
}
