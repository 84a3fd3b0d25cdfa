namespace VQToken.Api.Tests.Deployment;

/// <summary>The checkout the tests run from (the directory holding VQToken.Service.sln).</summary>
internal static class RepositoryRoot
{
    public static string Path { get; } = Find();

    public static string File(params string[] parts) => System.IO.Path.Combine([Path, .. parts]);

    private static string Find()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (System.IO.File.Exists(System.IO.Path.Combine(dir.FullName, "VQToken.Service.sln"))) return dir.FullName;
        throw new InvalidOperationException($"no VQToken.Service.sln above {AppContext.BaseDirectory}");
    }
}
