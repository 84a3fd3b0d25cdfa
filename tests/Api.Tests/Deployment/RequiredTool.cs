namespace VQToken.Api.Tests.Deployment;

/// <summary>Finds a system tool on PATH; a missing one fails the test with how to install it (never a silent skip).</summary>
internal static class RequiredTool
{
    public static string Find(string name, string install)
    {
        var dirs = (Environment.GetEnvironmentVariable("PATH") ?? "").Split(System.IO.Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
            .Concat(["/usr/sbin", "/sbin"]);
        foreach (var dir in dirs)
        {
            var path = System.IO.Path.Combine(dir, name);
            if (File.Exists(path)) return path;
        }
        Assert.Fail($"'{name}' is required by this test and is not installed: {install} (scripts/test.sh installs it when run as root)");
        return null!;
    }
}
