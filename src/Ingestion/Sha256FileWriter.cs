using System.Buffers;
using System.Security.Cryptography;

namespace VQToken.Ingestion;

/// <summary>Copies a stream to a new file in fixed-size chunks, hashing the bytes on the way (SHA-256, the
/// video's content key) and stopping as soon as the byte limit is passed: memory stays at one buffer.</summary>
public static class Sha256FileWriter
{
    private const int BufferSize = 128 * 1024;

    /// <returns>The bytes written and their SHA-256 as lowercase hex.</returns>
    /// <exception cref="VideoIngestException"><see cref="VideoErrorKind.TooLarge"/> past <paramref name="maxBytes"/>.</exception>
    public static async Task<(long Bytes, string Sha256)> WriteAsync(Stream source, string path, long maxBytes, CancellationToken cancellationToken)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        var buffer = ArrayPool<byte>.Shared.Rent(BufferSize);
        try
        {
            await using var file = new FileStream(path, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1, FileOptions.Asynchronous);
            long total = 0;
            int read;
            while ((read = await source.ReadAsync(buffer.AsMemory(0, BufferSize), cancellationToken)) > 0)
            {
                total += read;
                if (total > maxBytes)
                    throw new VideoIngestException(VideoErrorKind.TooLarge, $"the video is larger than the limit of {maxBytes} bytes");
                hash.AppendData(buffer, 0, read);
                await file.WriteAsync(buffer.AsMemory(0, read), cancellationToken);
            }
            return (total, Convert.ToHexStringLower(hash.GetHashAndReset()));
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>SHA-256 (lowercase hex) of a file already on disk.</summary>
    public static async Task<string> HashFileAsync(string path, CancellationToken cancellationToken)
    {
        await using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, BufferSize, FileOptions.Asynchronous | FileOptions.SequentialScan);
        return Convert.ToHexStringLower(await SHA256.HashDataAsync(file, cancellationToken));
    }
}
