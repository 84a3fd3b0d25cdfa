namespace VQToken.Engine.Checkpoints.Acquisition;

/// <summary>One file of a hub repository as its metadata request described it: where to download it
/// from (after the hub's redirects), its size and its SHA-256 when the hub gives them (LFS files).</summary>
public sealed record HubFile(string Name, Uri DownloadUri, long? Size, string? Sha256);
