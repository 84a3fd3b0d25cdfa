namespace VQToken.Engine.Checkpoints.Acquisition;

/// <summary>What went wrong while finding or fetching the checkpoint.</summary>
public enum ModelAcquisitionError
{
    /// <summary>The settings cannot work (no source, bad endpoint, a local path that is not a checkpoint).</summary>
    InvalidOptions,
    /// <summary>The repository, revision or a required file does not exist on the hub.</summary>
    NotFound,
    /// <summary>The hub refused access (401/403): a gated or private repository needs <c>HF_TOKEN</c>.</summary>
    Unauthorized,
    /// <summary>The hub could not be reached or a transfer kept failing.</summary>
    Network,
    /// <summary>A downloaded file does not have the size the server announced.</summary>
    SizeMismatch,
    /// <summary>A downloaded file does not have the SHA-256 the server announced.</summary>
    ChecksumMismatch,
    /// <summary>Offline mode, and the cache does not hold the checkpoint.</summary>
    OfflineCacheMissing,
    /// <summary>The repository holds no usable checkpoint (no config.json or no safetensors weights).</summary>
    NotACheckpoint,
}
