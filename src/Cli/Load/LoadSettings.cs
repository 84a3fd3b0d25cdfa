namespace VQToken.Cli.Load;

/// <summary>What `load` sends: <see cref="Clients"/> concurrent clients, each sending
/// <see cref="AsksPerClient"/> asks one after another to POST /videos/{id}/ask.</summary>
public sealed record LoadSettings(Uri BaseUrl, int Clients, int AsksPerClient, string VideoId, string Question, int MaxNewTokens, TimeSpan Timeout)
{
    public Uri AskUrl => new(BaseUrl, $"videos/{Uri.EscapeDataString(VideoId)}/ask");

    public void Validate()
    {
        if (BaseUrl.Scheme is not ("http" or "https")) throw new ArgumentException("--url must be http(s)");
        if (Clients < 1 || AsksPerClient < 1) throw new ArgumentException("--clients and --asks must be at least 1");
        if (string.IsNullOrWhiteSpace(VideoId)) throw new ArgumentException("--video-id is required");
    }
}
