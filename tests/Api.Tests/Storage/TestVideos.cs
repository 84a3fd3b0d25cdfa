using System.Security.Cryptography;
using System.Text;
using VQToken.Api.Storage;

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

    /// <summary>A small deterministic vqtoken entry: K clusters of width D over T frames of an H×W grid.</summary>
    public static CompressedVideoEntry Entry(string fingerprint = "model-a", int k = 4, int dim = 8, int frames = 2, int grid = 3,
        FloatPrecision precision = FloatPrecision.Float32, bool withTokens = true)
    {
        var random = new Random(k * 1000 + dim);
        return new CompressedVideoEntry
        {
            ModelFingerprint = fingerprint,
            Settings = CompressionSettings.Fixed(frames, k),
            Precision = precision,
            Dim = dim,
            Codebook = [.. Enumerable.Range(0, k * dim).Select(_ => (float)(random.NextDouble() * 2 - 1))],
            Frames = frames,
            GridHeight = grid,
            GridWidth = grid,
            IndexMap = [.. Enumerable.Range(0, frames * grid * grid).Select(i => (ushort)(i % k))],
            Tokens = withTokens ? [.. Enumerable.Range(0, (k + 1) * dim).Select(_ => (float)(random.NextDouble() * 2 - 1))] : null,
            CreatedAt = Epoch,
        };
    }

    public static void AssertSameEntry(CompressedVideoEntry expected, CompressedVideoEntry? actual)
    {
        Assert.NotNull(actual);
        Assert.Equal(expected.ModelFingerprint, actual.ModelFingerprint);
        Assert.Equal(expected.Settings, actual.Settings);
        Assert.Equal((expected.Dim, expected.Frames, expected.GridHeight, expected.GridWidth), (actual.Dim, actual.Frames, actual.GridHeight, actual.GridWidth));
        Assert.Equal(expected.IndexMap, actual.IndexMap);
        Assert.Equal(expected.Precision, actual.Precision);
        // fp16 keeps ~3 significant digits; fp32 is exact.
        float tolerance = expected.Precision == FloatPrecision.Float16 ? 1e-3f : 0f;
        AssertClose(expected.Codebook, actual.Codebook, tolerance);
        if (expected.Tokens is null) Assert.Null(actual.Tokens);
        else AssertClose(expected.Tokens, actual.Tokens!, tolerance);
    }

    private static void AssertClose(float[] expected, float[] actual, float tolerance)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
            Assert.True(Math.Abs(expected[i] - actual[i]) <= tolerance, $"element {i}: expected {expected[i]}, got {actual[i]}");
    }
}
