namespace VQToken.Api.Tests.Videos;

/// <summary>Parses a text/event-stream into (event, data) pairs.</summary>
public static class ServerSentEventReader
{
    public sealed record ServerSentEvent(string Event, string Data);

    public static async Task<List<ServerSentEvent>> ReadAllAsync(Stream stream, Action<ServerSentEvent>? onEvent = null)
    {
        var events = new List<ServerSentEvent>();
        using var reader = new StreamReader(stream);
        string name = "message";
        var data = new List<string>();
        while (await reader.ReadLineAsync() is { } line)
        {
            if (line.Length == 0)
            {
                if (data.Count > 0)
                {
                    var e = new ServerSentEvent(name, string.Join('\n', data));
                    events.Add(e);
                    onEvent?.Invoke(e);
                }
                name = "message";
                data.Clear();
            }
            else if (line.StartsWith("event:", StringComparison.Ordinal)) name = line[6..].Trim();
            else if (line.StartsWith("data:", StringComparison.Ordinal)) data.Add(line[5..].TrimStart());
        }
        return events;
    }
}
