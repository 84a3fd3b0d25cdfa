using System.Net;
using System.Net.Sockets;
using System.Text;

namespace VQToken.Api.Tests.Infrastructure;

/// <summary>One HTTP/1.1 exchange over a raw loopback socket, for requests HttpClient will not send: bodies
/// shorter than announced, bodies that stall. Reads the response until the server closes the connection.</summary>
public static class RawHttp
{
    public sealed record Reply(int Status, IReadOnlyDictionary<string, string> Headers, string Body)
    {
        public string? Header(string name) => Headers.TryGetValue(name, out var value) ? value : null;
    }

    /// <summary>Sends <paramref name="head"/> (which should say <c>Connection: close</c>) and <paramref name="body"/>,
    /// keeps the sending side open (Kestrel takes a half-close for an abort), and reads until the server closes.</summary>
    public static async Task<Reply> ExchangeAsync(int port, byte[] head, byte[] body, TimeSpan timeout)
    {
        using var cancel = new CancellationTokenSource(timeout);
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await socket.ConnectAsync(new IPEndPoint(IPAddress.Loopback, port), cancel.Token);
        await socket.SendAsync(head, SocketFlags.None, cancel.Token);
        await socket.SendAsync(body, SocketFlags.None, cancel.Token);

        var received = new MemoryStream();
        var buffer = new byte[16 * 1024];
        try
        {
            while (true)
            {
                int n = await socket.ReceiveAsync(buffer, SocketFlags.None, cancel.Token);
                if (n == 0) break;
                received.Write(buffer, 0, n);
            }
        }
        catch (SocketException) when (received.Length > 0) { }   // reset after the response: what came is the reply
        return Parse(received.ToArray());
    }

    private static Reply Parse(byte[] bytes)
    {
        int end = bytes.AsSpan().IndexOf("\r\n\r\n"u8);
        if (end < 0) throw new InvalidDataException("no complete HTTP response: " + Encoding.UTF8.GetString(bytes));
        var lines = Encoding.ASCII.GetString(bytes, 0, end).Split("\r\n");
        var status = int.Parse(lines[0].Split(' ')[1], System.Globalization.CultureInfo.InvariantCulture);
        var headers = lines.Skip(1).Select(l => l.Split(':', 2)).ToDictionary(p => p[0].Trim(), p => p[1].Trim(), StringComparer.OrdinalIgnoreCase);
        var body = bytes.AsSpan(end + 4);
        bool chunked = headers.TryGetValue("Transfer-Encoding", out var encoding) && encoding.Contains("chunked", StringComparison.OrdinalIgnoreCase);
        return new Reply(status, headers, Encoding.UTF8.GetString(chunked ? Dechunk(body) : body));
    }

    private static byte[] Dechunk(ReadOnlySpan<byte> chunked)
    {
        var result = new MemoryStream();
        while (chunked.Length > 0)
        {
            int lineEnd = chunked.IndexOf("\r\n"u8);
            if (lineEnd < 0) break;
            int size = Convert.ToInt32(Encoding.ASCII.GetString(chunked[..lineEnd]).Split(';')[0].Trim(), 16);
            if (size == 0) break;
            result.Write(chunked.Slice(lineEnd + 2, size));
            chunked = chunked[Math.Min(chunked.Length, lineEnd + 2 + size + 2)..];
        }
        return result.ToArray();
    }
}
