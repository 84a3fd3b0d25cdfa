using System.Net;
using System.Net.Sockets;
using VQToken.Ingestion.Url;

namespace VQToken.Engine.Tests.Video;

/// <summary>A resolver with a fixed table: test host names (*.test, localhost) map to whatever address a test
/// needs, and anything else fails like an unknown name, so no real DNS is ever consulted.</summary>
internal sealed class MappedResolver(Dictionary<string, string[]> table) : IHostResolver
{
    public List<string> Asked { get; } = [];

    public Task<IPAddress[]> ResolveAsync(string host, CancellationToken cancellationToken)
    {
        lock (Asked) Asked.Add(host);
        return table.TryGetValue(host, out var addresses)
            ? Task.FromResult(addresses.Select(IPAddress.Parse).ToArray())
            : Task.FromException<IPAddress[]>(new SocketException((int)SocketError.HostNotFound));
    }
}
