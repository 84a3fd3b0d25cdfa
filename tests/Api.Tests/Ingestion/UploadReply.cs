namespace VQToken.Api.Tests.Ingestion;

internal sealed record UploadReply(string? Sha256, long Size, long Frames, string? Error);
