using System.Security.Cryptography;
using System.Text.Json.Nodes;

namespace VQToken.Api.Tests.OpenAi;

/// <summary>
/// The official <c>openai</c> npm client, pinned in OpenAi/openai-client/package-lock.json, installed with
/// <c>npm ci</c> into artifacts/openai-client (again only when the lock file changes) and run by node on
/// chat.mjs. Without node and npm, or without the npm registry (or npm's cache holding the package), the
/// test fails and says why.
/// </summary>
public static class NodeOpenAiClient
{
    private static readonly TimeSpan InstallTimeout = TimeSpan.FromMinutes(5);
    private static readonly TimeSpan RunTimeout = TimeSpan.FromMinutes(5);
    private const string Hint = "The OpenAI client test needs Node.js (20+) and npm on PATH (Debian: apt-get install -y nodejs npm).";
    private static readonly string[] Files = ["package.json", "package-lock.json", "chat.mjs"];

    /// <summary>Runs chat.mjs against <paramref name="baseUrl"/> (…/v1) with <paramref name="input"/>; returns what it wrote.</summary>
    public static async Task<JsonObject> RunAsync(Uri baseUrl, JsonObject input)
    {
        string work = await Task.Run(Install);
        string stem = Path.Combine(work, "run-" + Guid.NewGuid().ToString("N"));
        try
        {
            await File.WriteAllTextAsync(stem + ".in.json", input.ToJsonString());
            await Task.Run(() => ExternalProcess.Run("node", ["chat.mjs", baseUrl.ToString(), stem + ".in.json", stem + ".out.json"], work, RunTimeout, Hint));
            return JsonNode.Parse(await File.ReadAllTextAsync(stem + ".out.json")) as JsonObject
                ?? throw new InvalidDataException("chat.mjs wrote no JSON object");
        }
        finally
        {
            File.Delete(stem + ".in.json");
            File.Delete(stem + ".out.json");
        }
    }

    private static string Install()
    {
        string root = RepositoryRoot();
        string source = Path.Combine(root, "tests", "Api.Tests", "OpenAi", "openai-client");
        string work = Path.Combine(root, "artifacts", "openai-client");
        Directory.CreateDirectory(work);
        using var installLock = AcquireLock(Path.Combine(work, ".install.lock"));
        foreach (string name in Files) File.Copy(Path.Combine(source, name), Path.Combine(work, name), overwrite: true);

        string stampPath = Path.Combine(work, ".installed-lock-sha256");
        string lockHash = Convert.ToHexString(SHA256.HashData(File.ReadAllBytes(Path.Combine(work, "package-lock.json"))));
        if (Directory.Exists(Path.Combine(work, "node_modules", "openai")) && File.Exists(stampPath) && File.ReadAllText(stampPath) == lockHash)
            return work;

        ExternalProcess.Run("node", ["--version"], work, TimeSpan.FromSeconds(30), Hint);
        try
        {
            ExternalProcess.Run("npm", ["ci", "--no-audit", "--no-fund", "--ignore-scripts", "--prefer-offline", "--loglevel=error"], work, InstallTimeout, Hint);
        }
        catch (Exception e) when (e is InvalidOperationException or TimeoutException)
        {
            throw new InvalidOperationException($"Installing the openai npm package failed (npm ci in {work}); the npm registry, or npm's cache " +
                $"holding the pinned openai package, must be reachable.\n{e.Message}", e);
        }
        File.WriteAllText(stampPath, lockHash);
        return work;
    }

    private static FileStream AcquireLock(string path)
    {
        var deadline = DateTime.UtcNow + InstallTimeout;
        while (true)
        {
            try
            {
                return new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
            }
            catch (IOException) when (DateTime.UtcNow < deadline)
            {
                Thread.Sleep(200); // another test process is installing
            }
        }
    }

    private static string RepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "VQToken.Service.sln"))) return dir.FullName;
        throw new InvalidOperationException($"No VQToken.Service.sln above {AppContext.BaseDirectory}.");
    }
}
