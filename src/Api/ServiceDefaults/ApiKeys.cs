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

/// <summary>Checks the key a request presents; shared by the rate limiter (which runs first, so missing and
/// wrong keys are limited per client address) and <see cref="ApiKeyMiddleware"/> (which refuses them).</summary>
public sealed class ApiKeyCheck(IOptions<AuthOptions> options)
{
    private const string ItemKey = "vqtoken.key-checked";
    private readonly HashSet<string> _owners = options.Value.ApiKeys.Where(k => k.Length > 0).Select(Caller.OwnerOf).ToHashSet(StringComparer.Ordinal);

    public string HeaderName => options.Value.HeaderName;

    /// <summary>Whether the request must present a key (keys are configured and the path is an API route).</summary>
    public bool Requires(HttpContext context) => _owners.Count > 0 && IsProtected(context.Request.Path);

    /// <summary>The caller's owner id: <see cref="Caller.Anonymous"/> when keys are off or the route is open,
    /// null for a missing or wrong key. Sets <see cref="Caller.Owner"/> on success; checked once per request.</summary>
    public string? Authenticate(HttpContext context)
    {
        if (context.Items.TryGetValue(ItemKey, out var done)) return (string?)done;
        string? owner = Caller.Anonymous;
        if (Requires(context))
        {
            var key = context.Request.Headers[options.Value.HeaderName].FirstOrDefault();
            var auth = context.Request.Headers.Authorization.FirstOrDefault();
            if (string.IsNullOrEmpty(key) && auth is not null && auth.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase)) key = auth[7..].Trim();
            owner = string.IsNullOrEmpty(key) ? null : Caller.OwnerOf(key);
            if (owner is not null && !_owners.Contains(owner)) owner = null;
            if (owner is not null) Caller.SetOwner(context, owner);
        }
        context.Items[ItemKey] = owner;
        return owner;
    }

    private static bool IsProtected(PathString path) =>
        path.StartsWithSegments("/videos") || path.StartsWithSegments("/v1");
}

/// <summary>Refuses requests to the API routes without a valid key: 401 ProblemDetails.</summary>
public sealed class ApiKeyMiddleware(RequestDelegate next, ApiKeyCheck keys)
{
    public async Task InvokeAsync(HttpContext context)
    {
        if (keys.Authenticate(context) is null)
        {
            await Problems.WriteAsync(context, Problems.Create(StatusCodes.Status401Unauthorized, Problems.Unauthorized,
                "A valid API key is required", $"send the key in the {keys.HeaderName} header (or Authorization: Bearer)"));
            return;
        }
        await next(context);
    }
}
