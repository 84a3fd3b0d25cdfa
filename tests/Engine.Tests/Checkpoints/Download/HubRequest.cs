namespace VQToken.Engine.Tests.Checkpoints.Download;

/// <summary>One request the stand-in hub saw: which server ("hub" or "cdn"), method, path, the Range and
/// Authorization headers, and how many body bytes it sent back.</summary>
internal sealed record HubRequest(string Server, string Method, string Path, string? Range, string? Authorization, long BytesSent);
