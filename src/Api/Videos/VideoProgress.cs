namespace VQToken.Api.Videos;

/// <summary>How far processing got: a stage name (frames, vision, compress, ready) and its fraction; with the
/// frames encoded of the frames sampled and, while frames are encoded, the seconds they are expected to take still.</summary>
public sealed record VideoProgress(string Stage, double Fraction, int? FramesDone = null, int? FramesTotal = null, double? EtaSeconds = null);
