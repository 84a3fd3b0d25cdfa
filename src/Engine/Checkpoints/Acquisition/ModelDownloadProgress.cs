namespace VQToken.Engine.Checkpoints.Acquisition;

/// <summary>Bytes of the checkpoint on disk so far (resumed bytes count as done). Totals are null when
/// the server did not announce a size.</summary>
public sealed record ModelDownloadProgress(string File, long FileBytes, long? FileTotalBytes, long Bytes, long? TotalBytes);
