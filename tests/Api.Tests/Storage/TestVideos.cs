using System.Security.Cryptography;
using System.Text;
using VQToken.Api.Cache;
using VQToken.Api.Processing;
using VQToken.Api.Videos;
using VQToken.Engine.Compression;
using VQToken.Engine.Runtime;

namespace VQToken.Api.Tests.Storage;

/// <summary>Records and cache entries for the storage tests.</summary>
public static class TestVideos
{
    public static readonly DateTimeOffset Epoch = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);
    public static readonly CompressionSettings Fixed32 = CompressionSettings.Fixed(frames: 32, k: 32);

    public static string Sha(string content) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(content)));

    /// <summary>A queued record; <paramref name="minute"/> orders creation (ids sort by it).</summary>
    public static VideoRecord Queued(string owner = "key-a", string content = "video bytes", CompressionSettings? settings = null, int minute = 0) =>
        VideoRecord.CreateQueued(owner, new VideoSource(VideoSourceKind.Upload, "clip.mp4"), Sha(content), settings ?? Fixed32, Epoch.AddMinutes(minute));

    /// <summary>Creates a record and walks it to <paramref name="status"/> through the lifecycle.</summary>
    public static async Task<VideoRecord> CreateInStatusAsync(IVideoStore store, VideoStatus status, string owner = "key-a", string content = "video bytes", int minute = 0)
    {
        var record = (await store.CreateOrGetExistingAsync(Queued(owner, content, minute: minute))).Video;
        if (status == VideoStatus.Queued) return record;
        record = Updated(await store.UpdateAsync(record.Id, r => r with { Status = VideoStatus.Processing }));
        if (status == VideoStatus.Processing) return record;
        return Updated(await store.UpdateAsync(record.Id, r => status == VideoStatus.Failed
            ? r with { Status = VideoStatus.Failed, Reason = "ffmpeg could not decode the stream" }
            : r with { Status = VideoStatus.Ready, Tokens = new TokenCounts(6273, 32 + 1) }));
    }

    public static VideoRecord Updated(VideoUpdateResult result)
    {
        Assert.True(result.Outcome == VideoUpdateOutcome.Updated, result.Error);
        return result.Video!;
    }

    /// <summary>A small deterministic vqtoken entry: K clusters of width D over T frames of a g×g grid.</summary>
    public static CacheEntry Entry(string fingerprint = "model-a", int k = 4, int dim = 8, int frames = 2, int grid = 3)
    {
        var random = new Random(k * 1000 + dim);
        var compressed = CompressedVideo.FromArrays(frames, grid, k, dim,
            [.. Enumerable.Range(0, k * dim).Select(_ => (float)(random.NextDouble() * 2 - 1))],
            [.. Enumerable.Range(0, frames * grid * grid).Select(i => (short)(i % k))], CompressionSettings.Fixed(frames, k));
        var encoding = new VideoEncoding
        {
            Mode = CompressionMode.VQTokenFixed, Compressed = compressed, Dim = dim, Frames = frames,
            OriginalTokens = frames * grid * grid, VisualTokens = k + 1,
        };
        return new CacheEntry(fingerprint, encoding) { CreatedAt = Epoch };
    }

    /// <summary>A full-mode entry: the pooled tokens [N, D], no codebook.</summary>
    public static CacheEntry FullEntry(string fingerprint = "model-a", int rows = 5, int dim = 4, int frames = 2)
    {
        var tokens = Enumerable.Range(0, rows * dim).Select(i => i * 0.25f - 1).ToArray();
        var encoding = new VideoEncoding
        {
            Mode = CompressionMode.Full, FullTokens = tokens, Dim = dim, Frames = frames, OriginalTokens = frames * 9, VisualTokens = rows,
        };
        return new CacheEntry(fingerprint, encoding) { CreatedAt = Epoch };
    }

    public static void AssertSameEntry(CacheEntry expected, CacheEntry? actual)
    {
        Assert.NotNull(actual);
        Assert.Equal(expected.ModelFingerprint, actual.ModelFingerprint);
        Assert.Equal(expected.Settings, actual.Settings);
        Assert.Equal(expected.CreatedAt, actual.CreatedAt);
        var (e, a) = (expected.Encoding, actual.Encoding);
        Assert.Equal((e.Mode, e.Dim, e.Frames, e.OriginalTokens, e.VisualTokens), (a.Mode, a.Dim, a.Frames, a.OriginalTokens, a.VisualTokens));
        Assert.Equal(e.FullTokens, a.FullTokens);
        if (e.Compressed is null) { Assert.Null(a.Compressed); return; }
        Assert.NotNull(a.Compressed);
        Assert.Equal((e.Compressed.K, e.Compressed.Grid), (a.Compressed.K, a.Compressed.Grid));
        Assert.Equal(e.Compressed.CodebookValues.ToArray(), a.Compressed.CodebookValues.ToArray());
        Assert.Equal(e.Compressed.IndexMapValues.ToArray(), a.Compressed.IndexMapValues.ToArray());
    }
}
