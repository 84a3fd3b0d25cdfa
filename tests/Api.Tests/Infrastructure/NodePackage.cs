using System.Security.Cryptography;
using VQToken.Engine.Tests.Text;

namespace VQToken.Api.Tests.Infrastructure;

/// <summary>A node script with its npm packages pinned by a committed package-lock.json: the folder is
/// copied to artifacts/&lt;name&gt; and installed there with <c>npm ci</c> (again only when the lock file
/// changes), then its scripts run with node. Without node/npm, or without the npm registry or cache,
/// it fails and says why; it never skips.</summary>
public sealed class NodePackage
{
    private static readonly TimeSpan InstallTimeout = TimeSpan.FromMinutes(5);
    private readonly string _hint;

    private NodePackage(string directory, string hint)
    {
        Directory = directory;
        _hint = hint;
    }

    /// <summary>Where the package is installed (artifacts/&lt;name&gt;).</summary>
    public string Directory { get; }

    /// <param name="source">Folder of package.json, package-lock.json and the scripts, relative to the repository root.</param>
    public static NodePackage Install(string source, string name, string hint)
    {
        string root = Deployment.RepositoryRoot.Path;
        string from = Path.Combine(root, source);
        string work = Path.Combine(root, "artifacts", name);
        System.IO.Directory.CreateDirectory(work);
        using (AcquireLock(Path.Combine(work, ".install.lock")))
        {
            foreach (var file in System.IO.Directory.EnumerateFiles(from).Where(f => Path.GetFileName(f) is "package.json" or "package-lock.json" || f.EndsWith(".mjs", StringComparison.Ordinal)))
                File.Copy(file, Path.Combine(work, Path.GetFileName(file)), overwrite: true);
            string stamp = Path.Combine(work, ".installed-lock-sha256");
            string lockHash = Convert.ToHexString(SHA256.HashData(File.ReadAllBytes(Path.Combine(work, "package-lock.json"))));
            bool installed = System.IO.Directory.Exists(Path.Combine(work, "node_modules")) && File.Exists(stamp) && File.ReadAllText(stamp) == lockHash;
            if (!installed)
            {
                ExternalProcess.Run("node", ["--version"], work, TimeSpan.FromSeconds(30), hint);
                try
                {
                    ExternalProcess.Run("npm", ["ci", "--no-audit", "--no-fund", "--ignore-scripts", "--prefer-offline", "--loglevel=error"], work, InstallTimeout, hint);
                }
                catch (Exception e) when (e is InvalidOperationException or TimeoutException)
                {
                    throw new InvalidOperationException($"npm ci in {work} failed; the npm registry (or npm's cache) must be reachable. {hint}\n{e.Message}", e);
                }
                File.WriteAllText(stamp, lockHash);
            }
        }
        return new NodePackage(work, hint);
    }

    /// <summary>Runs <c>node script args…</c> in the package folder; its output (stdout + stderr).</summary>
    public string Run(string script, IEnumerable<string> arguments, TimeSpan timeout) =>
        ExternalProcess.Run("node", [script, .. arguments], Directory, timeout, _hint);

    private static FileStream AcquireLock(string path)
    {
        var deadline = DateTime.UtcNow + InstallTimeout;
        while (true)
        {
            try { return new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None); }
            catch (IOException) when (DateTime.UtcNow < deadline) { Thread.Sleep(200); }   // another test process is installing
        }
    }
}
