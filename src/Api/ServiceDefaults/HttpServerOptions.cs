using System.ComponentModel.DataAnnotations;
using System.Net;

namespace VQToken.Api.ServiceDefaults;

/// <summary>Limits on request bodies and the proxies trusted to tell the client address (section <c>Http</c>).</summary>
public sealed class HttpServerOptions : IValidatableObject
{
    public const string Section = "Http";

    /// <summary>Largest JSON request body (asks, chat completions, URL videos); larger ones get 413.</summary>
    [Range(1024, 100L * 1024 * 1024)] public long MaxJsonBodyBytes { get; set; } = 1024 * 1024;

    /// <summary>Slowest accepted request body after the grace period; slower uploads are cut with 408.</summary>
    [Range(0, 1_000_000_000)] public double MinRequestBodyBytesPerSecond { get; set; } = 240;

    /// <summary>How long a request body may start slowly before its data rate is checked (Kestrel needs more than 1 s).</summary>
    [Range(1.001, 3600)] public double RequestBodyGracePeriodSeconds { get; set; } = 5;

    /// <summary>Proxies whose X-Forwarded-For/-Proto are believed (addresses); with no proxies and no
    /// networks, loopback only.</summary>
    public List<string> KnownProxies { get; set; } = [];

    /// <summary>Networks of trusted proxies in CIDR form (e.g. 10.0.0.0/8).</summary>
    public List<string> KnownNetworks { get; set; } = [];

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        foreach (var proxy in KnownProxies.Where(p => !IPAddress.TryParse(p, out _)))
            yield return new ValidationResult($"Http:KnownProxies: '{proxy}' is not an IP address", [nameof(KnownProxies)]);
        foreach (var network in KnownNetworks.Where(n => !IPNetwork.TryParse(n, out _)))
            yield return new ValidationResult($"Http:KnownNetworks: '{network}' is not a network in CIDR form", [nameof(KnownNetworks)]);
    }
}
