using System.Diagnostics;
using VQToken.Engine.Checkpoints;
using VQToken.Engine.Compression;
using VQToken.Engine.Generation;
using VQToken.Engine.Output;
using VQToken.Engine.Runtime;
using VQToken.Engine.Text;
using VQToken.Ingestion;

namespace VQToken.Cli.Bench;

/// <summary>The engine under test with what the scenarios share: the prompt, the frame sampler, and
/// helpers that time one upload → answer or one ask the way the service would run them.</summary>
public sealed class BenchSession : IAsyncDisposable
{
    private readonly BenchSettings _settings;
    private readonly FrameSampler _sampler = new(new VideoProbe(new VideoOptions()));
    private int _keys;

    public InferenceEngine Engine { get; }
    public ModelInfo Model { get; }
    public LlavaConfig Config => Model.Config;
    /// <summary>Chat-template prompt ids of the benchmark question (one image position).</summary>
    public int[] Prompt { get; }
    public double LoadMs { get; }

    private readonly QwenTokenizer _tokenizer;

    public QwenTokenizer Tokenizer => _tokenizer;

    private BenchSession(BenchSettings settings, InferenceEngine engine, ModelInfo model, QwenTokenizer tokenizer, int[] prompt, double loadMs) =>
        (_settings, Engine, Model, _tokenizer, Prompt, LoadMs) = (settings, engine, model, tokenizer, prompt, loadMs);

    public static async Task<BenchSession> OpenAsync(BenchSettings settings)
    {
        var clock = Stopwatch.StartNew();
        var engine = new InferenceEngine(settings.Checkpoint, new EngineOptions
        {
            Device = settings.Device, DType = settings.DType, Threads = settings.EffectiveThreads,
            MaxBatchSequences = Math.Max(16, settings.Concurrency),   // prefills per step: the service default
        });
        var model = await engine.Ready;
        double loadMs = clock.Elapsed.TotalMilliseconds;
        var tokenizer = QwenTokenizer.Load(settings.Checkpoint);
        var prompt = new ChatTemplate(tokenizer).BuildPrompt(settings.Question);
        return new BenchSession(settings, engine, model, tokenizer, prompt, loadMs);
    }

    /// <summary>A fresh video key, so no scenario sees another's cached prefix.</summary>
    public string NewKey(string name) => $"{name}-{Interlocked.Increment(ref _keys)}";

    /// <summary>Upload → answer: sample the file's frames, encode + compress them, ask once.</summary>
    public async Task<EndToEndRun> UploadAndAskAsync(string video, CompressionMode mode)
    {
        var clock = Stopwatch.StartNew();
        var sampled = await _sampler.SampleAsync(video, new FrameRequest(_settings.Frames));
        double sampleMs = clock.Elapsed.TotalMilliseconds;
        string key = NewKey(mode.ToString());
        var encoding = await EncodeAsync(key, sampled.Rgb, mode);
        double encodeMs = clock.Elapsed.TotalMilliseconds - sampleMs;
        var answer = await AskAsync(key, encoding, usePrefixCache: true);
        return new EndToEndRun(key, encoding, answer, sampleMs, encodeMs, clock.Elapsed.TotalMilliseconds);
    }

    public Task<VideoEncoding> EncodeAsync(string key, RgbFrames frames, CompressionMode mode)
    {
        CompressionSettings? compression = mode == CompressionMode.Full ? null
            : CompressionSettings.For(mode, frames.Count, _settings.K, _settings.MinK, _settings.Elbow, _settings.Tokens);
        return Engine.EncodeAsync(new EncodeRequest(key, frames, mode, compression));
    }

    /// <summary>Asks the benchmark question through the service's answer path; the answer is exactly
    /// <paramref name="tokens"/> tokens long (no stop ids or strings, so every run costs the same); with
    /// <paramref name="evidence"/> it also measures where the answer looked.</summary>
    public async Task<AskResult> AskAsync(string key, VideoEncoding encoding, bool usePrefixCache, int? tokens = null, bool evidence = false)
    {
        var request = new AskRequest(key, encoding, Prompt, SamplingOptions.Greedy(tokens ?? _settings.AnswerTokens), usePrefixCache, Evidence: evidence);
        var answer = await AnswerGeneration.GenerateAsync(Engine, _tokenizer, request, [], stopIds: new HashSet<long>());
        return answer.Engine;
    }

    /// <summary>A full-token encoding of <paramref name="rows"/> random visual tokens: the LLM cost of
    /// any frame count without running the vision tower (the LLM does not care what the values are).</summary>
    public VideoEncoding RandomVisualTokens(int rows, int seed)
    {
        int dim = Config.Text.HiddenSize;
        var random = new Random(seed);
        var values = new float[rows * dim];
        for (int i = 0; i < values.Length; i++) values[i] = (float)(random.NextDouble() * 2 - 1);
        return new VideoEncoding { Mode = CompressionMode.Full, FullTokens = values, VisualTokens = rows, Dim = dim };
    }

    public async ValueTask DisposeAsync() => await Engine.DisposeAsync();
}

