using System.Text.Json.Nodes;
using VQToken.Api.Tests.Infrastructure;

namespace VQToken.Api.Tests.OpenAi;

/// <summary>
/// The official <c>openai</c> npm client, pinned in OpenAi/openai-client/package-lock.json, installed with
/// <c>npm ci</c> into artifacts/openai-client (see <see cref="NodePackage"/>) and run by node on chat.mjs.
/// Without node and npm, or without the npm registry (or npm's cache holding the package), the test fails
/// and says why.
/// </summary>
public static class NodeOpenAiClient
{
    private static readonly TimeSpan RunTimeout = TimeSpan.FromMinutes(5);
    private const string Hint = "The OpenAI client test needs Node.js (20+) and npm on PATH (Debian: apt-get install -y nodejs npm).";

    /// <summary>Runs chat.mjs against <paramref name="baseUrl"/> (…/v1) with <paramref name="input"/>; returns what it wrote.</summary>
    public static async Task<JsonObject> RunAsync(Uri baseUrl, JsonObject input)
    {
        var package = await Task.Run(() => NodePackage.Install(Path.Combine("tests", "Api.Tests", "OpenAi", "openai-client"), "openai-client", Hint));
        string stem = Path.Combine(package.Directory, "run-" + Guid.NewGuid().ToString("N"));
        try
        {
            await File.WriteAllTextAsync(stem + ".in.json", input.ToJsonString());
            await Task.Run(() => package.Run("chat.mjs", [baseUrl.ToString(), stem + ".in.json", stem + ".out.json"], RunTimeout));
            return JsonNode.Parse(await File.ReadAllTextAsync(stem + ".out.json")) as JsonObject
                ?? throw new InvalidDataException("chat.mjs wrote no JSON object");
        }
        finally
        {
            File.Delete(stem + ".in.json");
            File.Delete(stem + ".out.json");
        }
    }
}
