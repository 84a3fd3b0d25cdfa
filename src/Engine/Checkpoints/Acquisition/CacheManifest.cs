using System.Text.Json;
using System.Text.Json.Serialization;

namespace VQToken.Engine.Checkpoints.Acquisition;

/// <summary>Written last into a cache directory, once every file is downloaded and verified: its
/// presence is what makes the directory "complete". Lists each file's size and SHA-256 (when known).</summary>
public sealed record CacheManifest(
    [property: JsonPropertyName("repo")] string Repo,
    [property: JsonPropertyName("revision")] string Revision,
    [property: JsonPropertyName("files")] IReadOnlyList<CacheManifestFile> Files)
{
    public const string FileName = ".vqtoken-complete.json";
    private static readonly JsonSerializerOptions Json = new() { WriteIndented = true };

    public static CacheManifest? TryRead(string directory)
    {
        var path = Path.Combine(directory, FileName);
        if (!File.Exists(path)) return null;
        try
        {
            return JsonSerializer.Deserialize<CacheManifest>(File.ReadAllText(path), Json);
        }
        catch (JsonException)
        {
            return null; // a damaged manifest means "not complete": download again
        }
    }

    /// <summary>The files of the manifest that are absent or have another size on disk.</summary>
    public IReadOnlyList<string> MissingFiles(string directory) => Files
        .Where(f => new FileInfo(Path.Combine(directory, f.Name)) is var info && (!info.Exists || info.Length != f.Size))
        .Select(f => f.Name)
        .ToList();

    public void Write(string directory)
    {
        var path = Path.Combine(directory, FileName);
        var temp = path + ".tmp";
        File.WriteAllText(temp, JsonSerializer.Serialize(this, Json));
        File.Move(temp, path, overwrite: true);
    }
}
