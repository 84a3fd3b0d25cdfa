using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Options;

namespace VQToken.Api.ServiceDefaults;

/// <summary>Optional API keys (section <c>Auth</c>). With no keys configured the service is open and
/// every caller is owner <c>anonymous</c>; with keys, every request outside health/docs/static files
/// needs <c>X-Api-Key</c> (or <c>Authorization: Bearer</c>), and each key sees only its own videos.</summary>
public sealed class AuthOptions
{
    public const string Section = "Auth";
    /// <summary>Accepted keys. Each key's owner id is a short hash of the key (never the key itself).</summary>
    public List<string> ApiKeys { get; set; } = [];
    public string HeaderName { get; set; } = "X-Api-Key";
}

/// <summary>Who is calling: the owner id attached to videos, and the rate-limit partition.</summary>
public static class Caller
{
    public const string Anonymous = "anonymous";
    private const string ItemKey = "vqtoken.owner";

    public static string Owner(HttpContext context) => context.Items[ItemKey] as string ?? Anonymous;

    internal static void SetOwner(HttpContext context, string owner) => context.Items[ItemKey] = owner;

    /// <summary>Owner id of a key: the first 16 hex digits of its SHA-256.</summary>
    public static string OwnerOf(string key) => "key-" + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(key)))[..16];
}

/// <summary>Checks the API key of requests to the API routes; 401 ProblemDetails when missing or wrong.</summary>
public sealed class ApiKeyMiddleware(RequestDelegate next, IOptions<AuthOptions> options)
{
    private readonly HashSet<string> _owners = options.Value.ApiKeys.Where(k => k.Length > 0).Select(Caller.OwnerOf).ToHashSet(StringComparer.Ordinal);

    public async Task InvokeAsync(HttpContext context)
    {
        if (_owners.Count == 0 || !IsProtected(context.Request.Path))
        {
            await next(context);
            return;
        }
        var key = context.Request.Headers[options.Value.HeaderName].FirstOrDefault();
        var auth = context.Request.Headers.Authorization.FirstOrDefault();
        if (string.IsNullOrEmpty(key) && auth is not null && auth.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase)) key = auth[7..].Trim();
        var owner = string.IsNullOrEmpty(key) ? null : Caller.OwnerOf(key);
        if (owner is null || !_owners.Contains(owner))
        {
            await Problems.WriteAsync(context, Problems.Create(StatusCodes.Status401Unauthorized, Problems.Unauthorized,
                "A valid API key is required", $"send the key in the {options.Value.HeaderName} header (or Authorization: Bearer)"));
            return;
        }
        Caller.SetOwner(context, owner);
        await next(context);
    }

    private static bool IsProtected(PathString path) =>
        path.StartsWithSegments("/videos") || path.StartsWithSegments("/v1");
}
