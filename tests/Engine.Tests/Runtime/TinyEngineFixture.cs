using VQToken.Engine.Checkpoints;
using VQToken.Engine.Compression;
using VQToken.Engine.Runtime;
using VQToken.Engine.Text;
using VQToken.Ingestion;
using VQToken.Testing;

namespace VQToken.Engine.Tests.Runtime;

/// <summary>A generated tiny checkpoint, its tokenizer, and random RGB frames to encode.</summary>
public sealed class TinyCheckpointFixture : IDisposable
{
    public string Directory { get; } = Path.Combine(Path.GetTempPath(), "vqtoken-tiny-" + Guid.NewGuid().ToString("N")[..8]);
    public QwenTokenizer Tokenizer { get; }
    public ChatTemplate Template { get; }

    public TinyCheckpointFixture()
    {
        RandomCheckpoint.Write(Directory, new RandomCheckpoint.Options(CheckpointSize.Tiny, Seed: 7));
        Tokenizer = QwenTokenizer.Load(Directory);
        Template = new ChatTemplate(Tokenizer);
    }

    public static RgbFrames RandomFrames(int count, int seed, int size = 384)
    {
        var data = new byte[count * size * size * 3];
        new Random(seed).NextBytes(data);
        return new RgbFrames(count, size, data);
    }

    public InferenceEngine NewEngine(Action<EngineOptions>? configure = null)
    {
        var options = new EngineOptions { Device = "cpu", Threads = 2 };
        configure?.Invoke(options);
        return new InferenceEngine(Directory, options);
    }

    public static EncodeRequest Encode(string key, RgbFrames frames, CompressionMode mode = CompressionMode.VQTokenFixed) =>
        new(key, frames, mode, mode == CompressionMode.Full ? null : mode == CompressionMode.VQTokenFixed ? CompressionSettings.Fixed(frames.Count, 8) : CompressionSettings.Adaptive(frames.Count, 2, 6));

    public void Dispose()
    {
        try { System.IO.Directory.Delete(Directory, recursive: true); } catch (IOException) { }
    }
}
