namespace VQToken.Api.OpenAi;

/// <summary>The video a chat completion is about: an uploaded video's id, or a URL to fetch (then
/// ingested like <c>POST /videos</c> with a URL, duplicates included).</summary>
public sealed record VideoReference(string? Id, Uri? Url)
{
    /// <summary>How a video of this service is named in a <c>video_url</c> part: <c>vqtoken://videos/{id}</c>.</summary>
    public const string UrlPrefix = "vqtoken://videos/";

    public static VideoReference ForId(string id) => new(id, null);

    public static VideoReference ForUrl(Uri url) => new(null, url);
}
