using VQToken.Api.Storage;
using VQToken.Engine.Runtime;
using CompressedVideo = VQToken.Engine.Compression.CompressedVideo;

namespace VQToken.Api.Inference;

/// <summary>Converts between the engine's <see cref="VideoEncoding"/> and the store's
/// <see cref="CompressedVideoEntry"/> (plain arrays, checksummed on disk or in Redis).</summary>
public static class EncodingConversion
{
    /// <summary>The engine's settings for a video's settings (null in full mode); legacy records resolve their
    /// token path against <paramref name="hasVQAttention"/>.</summary>
    public static CompressionSettings? ToEngine(CompressionSettings settings, bool hasVQAttention) =>
        settings.Mode == CompressionMode.Full ? null : settings.Resolve(hasVQAttention);

    public static CompressedVideoEntry ToEntry(VideoEncoding encoding, CompressionSettings settings, string fingerprint)
    {
        var c = encoding.Compressed;
        return new CompressedVideoEntry
        {
            ModelFingerprint = fingerprint,
            Settings = settings,
            Precision = FloatPrecision.Float32,
            Dim = encoding.Dim,
            Codebook = c is null ? [] : c.CodebookValues.ToArray(),
            Frames = c?.Frames ?? 0,
            GridHeight = c?.Grid ?? 0,
            GridWidth = c?.Grid ?? 0,
            IndexMap = c is null ? [] : c.IndexMapValues.ToArray().Select(v => (ushort)v).ToArray(),
            Tokens = encoding.FullTokens,
        };
    }

    /// <summary>Rebuilds the engine's encoding from a cache entry; <paramref name="record"/> supplies the counts.</summary>
    public static VideoEncoding FromEntry(CompressedVideoEntry entry, VideoRecord record, bool hasVQAttention)
    {
        var mode = entry.Settings.Mode;
        int originalTokens = (int)(record.Tokens?.Original ?? 0);
        if (mode == CompressionMode.Full)
        {
            var tokens = entry.Tokens ?? throw new InvalidDataException("full-mode entry without tokens");
            return new VideoEncoding
            {
                Mode = mode, FullTokens = tokens, Dim = entry.Dim, VisualTokens = tokens.Length / entry.Dim,
                Frames = entry.Settings.Frames, OriginalTokens = originalTokens,
            };
        }
        int k = entry.CodebookSize;
        var settings = ToEngine(entry.Settings, hasVQAttention)!;
        var compressed = CompressedVideo.FromArrays(entry.Frames, entry.GridHeight, k, entry.Dim, entry.Codebook,
            entry.IndexMap.Select(v => (short)v).ToArray(), settings);
        return new VideoEncoding
        {
            Mode = mode, Compressed = compressed, Dim = entry.Dim, Frames = entry.Frames, OriginalTokens = entry.Frames * entry.GridHeight * entry.GridWidth,
            VisualTokens = VideoEncoding.VQTokenCount(settings.Tokens!.Value, entry.Frames, k),
        };
    }
}
