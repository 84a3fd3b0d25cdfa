using System.Net;
using System.Net.Http;
using System.Net.Sockets;

namespace VQToken.Ingestion.Url;

/// <summary>The <see cref="SocketsHttpHandler.ConnectCallback"/> of the URL fetcher: resolves the host once,
/// refuses the connection when any of its addresses is in a refused range, and connects to the checked
/// address itself (pinned), so a second DNS answer can never point the socket elsewhere.</summary>
public sealed class GuardedConnector(
    bool allowPrivateAddresses,
    IHostResolver resolver,
    Func<IPEndPoint, CancellationToken, ValueTask<Stream>>? connect = null)
{
    private readonly Func<IPEndPoint, CancellationToken, ValueTask<Stream>> _connect = connect ?? ConnectSocketAsync;

    public ValueTask<Stream> ConnectAsync(SocketsHttpConnectionContext context, CancellationToken cancellationToken) =>
        ConnectAsync(context.DnsEndPoint.Host, context.DnsEndPoint.Port, cancellationToken);

    public async ValueTask<Stream> ConnectAsync(string host, int port, CancellationToken cancellationToken)
    {
        var addresses = await ResolveAsync(host, cancellationToken);
        foreach (var address in addresses) Check(host, address, allowPrivateAddresses);

        Exception? last = null;
        foreach (var address in addresses)
        {
            try
            {
                return await _connect(new IPEndPoint(address, port), cancellationToken);
            }
            catch (SocketException e)
            {
                last = e;
            }
        }
        throw new VideoIngestException(VideoErrorKind.UrlUnreachable, $"could not connect to {host}:{port}: {last?.Message}", last);
    }

    /// <exception cref="VideoIngestException"><see cref="VideoErrorKind.UrlRefused"/> for a refused address.</exception>
    public static void Check(string host, IPAddress address, bool allowPrivateAddresses)
    {
        if (!AddressGuard.IsAllowed(address, allowPrivateAddresses))
            throw new VideoIngestException(VideoErrorKind.UrlRefused, IPAddress.TryParse(host.Trim('[', ']'), out _)
                ? $"{address} is a {AddressGuard.Classify(address)} address, which may not be fetched"
                : $"{host} resolves to {address}, a {AddressGuard.Classify(address)} address, which may not be fetched");
    }

    private async Task<IPAddress[]> ResolveAsync(string host, CancellationToken cancellationToken)
    {
        if (IPAddress.TryParse(host.Trim('[', ']'), out var literal)) return [literal];
        IPAddress[] addresses;
        try
        {
            addresses = await resolver.ResolveAsync(host, cancellationToken);
        }
        catch (SocketException e)
        {
            throw new VideoIngestException(VideoErrorKind.UrlUnreachable, $"the host {host} could not be resolved: {e.Message}", e);
        }
        if (addresses.Length == 0)
            throw new VideoIngestException(VideoErrorKind.UrlUnreachable, $"the host {host} has no addresses");
        return addresses;
    }

    private static async ValueTask<Stream> ConnectSocketAsync(IPEndPoint endpoint, CancellationToken cancellationToken)
    {
        var socket = new Socket(endpoint.AddressFamily, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            await socket.ConnectAsync(endpoint, cancellationToken);
            return new NetworkStream(socket, ownsSocket: true);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }
}
