using System.Net;

namespace VQToken.Ingestion.Url;

/// <summary>Turns a host name into addresses. The fetcher resolves each host once per connection and
/// connects to exactly the address it checked (no second lookup that DNS rebinding could change).</summary>
public interface IHostResolver
{
    Task<IPAddress[]> ResolveAsync(string host, CancellationToken cancellationToken);
}
