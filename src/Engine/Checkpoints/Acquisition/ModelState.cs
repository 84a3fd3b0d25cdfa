namespace VQToken.Engine.Checkpoints.Acquisition;

/// <summary>Start-up stages of the model, as /readyz reports them. Only <see cref="Ready"/> is ready.</summary>
public enum ModelState
{
    /// <summary>Start-up has not begun.</summary>
    Pending,
    /// <summary>Finding the checkpoint: the cache, a download in progress, or generating the demo model.</summary>
    Resolving,
    /// <summary>The checkpoint is on disk; the engine is loading the weights.</summary>
    Loading,
    Ready,
    /// <summary>Start-up failed; <see cref="ModelStatus.Reason"/> says why. The process stays up (live) so the reason can be read.</summary>
    Failed,
}
