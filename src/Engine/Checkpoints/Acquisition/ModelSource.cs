namespace VQToken.Engine.Checkpoints.Acquisition;

/// <summary>Where a resolved checkpoint came from.</summary>
public enum ModelSource
{
    /// <summary><c>Model:Path</c>, used as is.</summary>
    LocalPath,
    /// <summary>A complete earlier download in the cache.</summary>
    Cache,
    /// <summary>Downloaded from the hub during this resolve.</summary>
    Downloaded,
    /// <summary>A generated tiny random checkpoint: answers are meaningless.</summary>
    Demo,
}
