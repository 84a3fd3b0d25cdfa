using VQToken.Api.Videos;

namespace VQToken.Api.Storage;

/// <summary>Checks the names the stores put into file names and keys, so a caller's string can never
/// escape a directory or collide with another key.</summary>
internal static class StorageNames
{
    public static string VideoId(string id) =>
        Videos.VideoId.IsValid(id) ? id : throw new ArgumentException($"'{id}' is not a video id", nameof(id));

    public static string Fingerprint(string fingerprint) =>
        fingerprint.Length is > 0 and <= 128 && fingerprint.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_')
            ? fingerprint
            : throw new ArgumentException($"'{fingerprint}' is not a model fingerprint ([A-Za-z0-9_-], 1-128)", nameof(fingerprint));
}
