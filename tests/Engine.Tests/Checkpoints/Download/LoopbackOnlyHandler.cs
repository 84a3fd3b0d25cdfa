using System.Net;
using System.Net.Sockets;

namespace VQToken.Engine.Tests.Checkpoints.Download;

/// <summary>The HTTP handler the download tests give the downloader: it dials IP loopback literals only,
/// so no test can reach the real hub (or anything else) even by accident.</summary>
internal static class LoopbackOnlyHandler
{
    public static SocketsHttpHandler Create() => new()
    {
        AllowAutoRedirect = false,
        UseProxy = false,
        ConnectCallback = async (context, cancellationToken) =>
        {
            if (!IPAddress.TryParse(context.DnsEndPoint.Host.Trim('[', ']'), out var address) || !IPAddress.IsLoopback(address))
                throw new InvalidOperationException($"test tried to connect to {context.DnsEndPoint.Host}: only loopback is allowed");
            var socket = new Socket(address.AddressFamily, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
            try
            {
                await socket.ConnectAsync(new IPEndPoint(address, context.DnsEndPoint.Port), cancellationToken);
                return new NetworkStream(socket, ownsSocket: true);
            }
            catch
            {
                socket.Dispose();
                throw;
            }
        },
    };
}
