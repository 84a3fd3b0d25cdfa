namespace VQToken.Api.Tests.Storage;

/// <summary>A temp directory removed on dispose.</summary>
public sealed class TempDirectory : IDisposable
{
    public string Path { get; } = Directory.CreateTempSubdirectory("vqtoken-test-").FullName;

    public void Dispose() => Directory.Delete(Path, recursive: true);
}
