namespace VQToken.Engine.Checkpoints.Acquisition;

/// <summary>One consistent reading of <see cref="ModelStatus"/> (for /readyz's body).</summary>
/// <param name="Reason">Why the model is not ready, or what is loaded when it is.</param>
/// <param name="Download">The latest download progress, when a download ran.</param>
public sealed record ModelStatusSnapshot(ModelState State, string Reason, bool IsDemo, string? Directory, ModelDownloadProgress? Download)
{
    public bool IsReady => State == ModelState.Ready;
}
