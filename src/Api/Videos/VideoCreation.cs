namespace VQToken.Api.Videos;

/// <summary>What <see cref="IVideoStore.CreateOrGetExistingAsync"/> did: <see cref="Created"/> is false
/// when the same owner already had the same bytes with the same settings (ready or in flight), and
/// <see cref="Video"/> is that existing record.</summary>
public sealed record VideoCreation(VideoRecord Video, bool Created);
