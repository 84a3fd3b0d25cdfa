namespace VQToken.Api.Videos;

/// <summary>Uploaded bytes written to the source store's staging area and hashed on the way, before
/// the dedupe check decides whether they become a video's source (<see cref="ISourceStore.CommitAsync"/>)
/// or are dropped (<see cref="ISourceStore.DiscardAsync"/>).</summary>
public sealed record StagedSource(string Path, long Bytes, string Sha256);
