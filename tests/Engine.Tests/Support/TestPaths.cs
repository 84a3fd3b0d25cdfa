namespace VQToken.Engine.Tests.Support;

/// <summary>Locations the tests read: the repository root (the folder holding VQToken.Service.sln,
/// found by walking up from the test binaries) and the shared parity fixtures beside the checkout
/// (<c>../shared/fixtures</c>). A missing folder fails the test with a message; it never skips.</summary>
internal static class TestPaths
{
    public const string SolutionFile = "VQToken.Service.sln";

    public static string RepoRoot { get; } = FindRepoRoot();

    public static string FixturesDir => Path.GetFullPath(Path.Combine(RepoRoot, "..", "shared", "fixtures"));

    /// <summary>A parity fixture folder (model/, inputs.safetensors, expected.safetensors).</summary>
    public static string Fixture(string name)
    {
        var dir = Path.Combine(FixturesDir, name);
        string[] required = ["model/config.json", "inputs.safetensors", "expected.safetensors"];
        var missing = required.Where(f => !File.Exists(Path.Combine(dir, f))).ToList();
        if (missing.Count > 0)
            throw new InvalidOperationException(
                $"parity fixture '{name}' is missing or incomplete at {dir} (lacks {string.Join(", ", missing)}); " +
                "the tests expect the shared fixtures at ../shared/fixtures next to the checkout");
        return dir;
    }

    /// <summary>The checkpoint directory of a parity fixture.</summary>
    public static string FixtureModel(string name) => Path.Combine(Fixture(name), "model");

    private static string FindRepoRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, SolutionFile))) return dir.FullName;
        throw new InvalidOperationException($"no {SolutionFile} above {AppContext.BaseDirectory}");
    }
}
