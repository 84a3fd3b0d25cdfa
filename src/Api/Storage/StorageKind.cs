namespace VQToken.Api.Storage;

/// <summary>Which store backs the service: <c>file</c> (embedded, one replica) or <c>redis</c> (shared
/// by replicas).</summary>
public enum StorageKind
{
    File,
    Redis,
}
