using System.Security.Cryptography;
using Microsoft.Extensions.Options;
using VQToken.Engine.Caching;
using VQToken.Engine.Output;

namespace VQToken.Api.Ask;

/// <summary>An answer's evidence as kept for its heat picture: the cell scores [T·g·g] and the frame times.</summary>
public sealed record StoredEvidence(string Owner, string VideoId, float[] CellScores, int Frames, int Grid, IReadOnlyList<double>? FrameTimes);

/// <summary>Recent answers' evidence, so the heat picture can be drawn when someone opens its link (the ask
/// itself draws nothing): in memory on the replica that answered, under Ask:EvidenceCacheBytes, least recently
/// used first out; a deleted video's evidence goes with it. Ids are random (128 bits) and checked against the owner.</summary>
public sealed class AnswerEvidenceStore(IOptions<AskOptions> options)
{
    private readonly LruCache<StoredEvidence> _kept = new(options.Value.EvidenceCacheBytes, e => (long)e.CellScores.Length * sizeof(float) + 256);

    /// <summary>False when Ask:EvidenceCacheBytes is 0: evidence answers then carry no picture link.</summary>
    public bool Enabled => _kept.Enabled;

    /// <summary>Keeps <paramref name="evidence"/>; returns its id, or null when pictures are off (or it alone exceeds the budget).</summary>
    public string? Add(string owner, string videoId, AnswerEvidence evidence, IReadOnlyList<double>? frameTimes)
    {
        if (!Enabled) return null;
        string id = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16));
        var kept = new StoredEvidence(owner, videoId, evidence.CellScores.Select(s => (float)s).ToArray(), evidence.Frames.Count, evidence.Grid, frameTimes);
        return _kept.TryAdd(Key(videoId, id), kept) ? id : null;
    }

    /// <summary>The evidence <paramref name="id"/> of <paramref name="owner"/>'s video, or null (unknown, expired, someone else's).</summary>
    public StoredEvidence? Get(string owner, string videoId, string id) =>
        IsId(id) && _kept.TryGet(Key(videoId, id), out var kept) && kept.Owner == owner ? kept : null;

    public void Forget(string videoId) => _kept.ForgetVideo(videoId);

    public static bool IsId(string id) => id.Length == 32 && id.All(char.IsAsciiHexDigitLower);

    /// <summary>The picture's address, relative to the service.</summary>
    public static string PicturePath(string videoId, string id) => $"/videos/{videoId}/evidence/{id}.png";

    private static string Key(string videoId, string id) => $"{videoId}|{id}";
}
