using System.ComponentModel.DataAnnotations;

namespace VQToken.Engine.Checkpoints.Acquisition;

/// <summary>Where the checkpoint comes from (configuration section <c>Model</c>): a local directory
/// (<see cref="Path"/>), a Hugging Face repository downloaded once into <see cref="CacheDir"/>
/// (<see cref="Repo"/> at <see cref="Revision"/>), or a generated tiny random model (<see cref="Demo"/>).</summary>
public sealed class ModelOptions : IValidatableObject
{
    public const string Section = "Model";
    public const string DefaultRepo = "haichaozhang/VQ-Token-llava-ov-0.5b";
    public const string DefaultEndpoint = "https://huggingface.co";

    /// <summary>A local checkpoint directory, used as is; when set, nothing is downloaded.</summary>
    public string Path { get; set; } = "";

    /// <summary>Hugging Face repository id (<c>owner/name</c>), downloaded on first start when <see cref="Path"/> is empty.</summary>
    [RegularExpression(@"^[A-Za-z0-9][A-Za-z0-9._-]*(/[A-Za-z0-9][A-Za-z0-9._-]*)?$", ErrorMessage = "Model:Repo must be a repository id like owner/name")]
    public string Repo { get; set; } = DefaultRepo;

    /// <summary>Branch, tag or commit of <see cref="Repo"/>. Pin a commit in production: a cached
    /// download of a revision is reused as it is.</summary>
    [RegularExpression(@"^[A-Za-z0-9][A-Za-z0-9._/-]*$", ErrorMessage = "Model:Revision must be a branch, tag or commit")]
    public string Revision { get; set; } = "main";

    /// <summary>Download cache; empty: <c>$XDG_CACHE_HOME/vqtoken/models</c> (else <c>~/.cache/vqtoken/models</c>).</summary>
    public string CacheDir { get; set; } = "";

    /// <summary>Use only the cache; fail clearly (never touch the network) when the files are not there.</summary>
    public bool Offline { get; set; }

    /// <summary>Generate a tiny random checkpoint instead of loading a real one: the service runs, but
    /// its answers are meaningless. For trying the API and for tests.</summary>
    public bool Demo { get; set; }

    /// <summary>Where the demo checkpoint is written; empty: <c>demo-tiny</c> in <see cref="CacheDir"/>.</summary>
    public string DemoPath { get; set; } = "";

    /// <summary>Hub base URL; default: the <c>HF_ENDPOINT</c> environment variable, else https://huggingface.co.</summary>
    public string Endpoint { get; set; } = EnvironmentOr("HF_ENDPOINT", DefaultEndpoint);

    /// <summary>Access token for gated or private repositories; default: the <c>HF_TOKEN</c> environment variable.
    /// Sent only to <see cref="Endpoint"/>'s origin, never to the hosts it redirects to.</summary>
    public string Token { get; set; } = EnvironmentOr("HF_TOKEN", "");

    /// <summary>The cache directory with the default applied.</summary>
    public string CacheRoot()
    {
        if (CacheDir.Length > 0) return CacheDir;
        var xdg = Environment.GetEnvironmentVariable("XDG_CACHE_HOME");
        var root = string.IsNullOrEmpty(xdg)
            ? System.IO.Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".cache")
            : xdg;
        return System.IO.Path.Combine(root, "vqtoken", "models");
    }

    /// <summary>The demo checkpoint directory with the default applied.</summary>
    public string DemoRoot() => DemoPath.Length > 0 ? DemoPath : System.IO.Path.Combine(CacheRoot(), "demo-tiny");

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (!Uri.TryCreate(Endpoint, UriKind.Absolute, out var endpoint) || (endpoint.Scheme != Uri.UriSchemeHttp && endpoint.Scheme != Uri.UriSchemeHttps))
            yield return new ValidationResult($"Model:Endpoint must be an absolute http(s) URL, not '{Endpoint}'", [nameof(Endpoint)]);
        if (!Demo && Path.Length == 0 && Repo.Length == 0)
            yield return new ValidationResult("set Model:Path (a local checkpoint), Model:Repo (a Hugging Face repository id) or Model:Demo=true", [nameof(Repo)]);
        if (Revision.Contains("..", StringComparison.Ordinal))
            yield return new ValidationResult("Model:Revision must not contain '..'", [nameof(Revision)]);
    }

    private static string EnvironmentOr(string name, string fallback) =>
        Environment.GetEnvironmentVariable(name) is { Length: > 0 } value ? value : fallback;
}
