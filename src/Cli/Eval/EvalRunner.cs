using System.Diagnostics;
using VQToken.Engine.Compression;
using VQToken.Engine.Generation;
using VQToken.Engine.Output;
using VQToken.Engine.Runtime;
using VQToken.Engine.Text;
using VQToken.Ingestion;
using VQToken.Ingestion.Url;

namespace VQToken.Cli.Eval;

/// <summary>Answers every (sample, mode) pair not yet in the results file: frames are sampled once
/// per sample, then each mode encodes (vision + compression) and asks; every answer is appended at
/// once, so an interrupted run loses at most the pair in flight.</summary>
public sealed class EvalRunner(EvalSettings settings, CliProgress progress)
{
    private static readonly VideoProbe Probe = new(new VideoOptions());
    private readonly FrameSampler _sampler = new(Probe);

    public async Task<EvalReport> RunAsync()
    {
        var samples = EvalSample.ReadJsonl(settings.Dataset);
        var results = new EvalResultsLog(Path.Combine(settings.OutDir, "results.jsonl"));
        var done = results.Read().Select(r => r.Key).ToHashSet();
        var todo = samples.Take(settings.MaxSamples ?? int.MaxValue)
            .Where(s => settings.Modes.Any(m => !done.Contains(EvalRecord.KeyOf(s.Id, m.WireName())))).ToList();
        int pairs = todo.Sum(s => settings.Modes.Count(m => !done.Contains(EvalRecord.KeyOf(s.Id, m.WireName()))));
        Log($"{samples.Count} samples, {done.Count} answers already in the results file, {todo.Count} samples to run");
        var bar = progress.AddBar($"eval: {pairs} answers (samples x modes)", pairs);

        if (todo.Count > 0)
        {
            var tokenizer = QwenTokenizer.Load(settings.Checkpoint);
            var template = new ChatTemplate(tokenizer);
            await using var engine = new InferenceEngine(settings.Checkpoint, new EngineOptions { Device = settings.Device, Threads = settings.Threads });
            await engine.Ready;
            foreach (var sample in todo)
            {
                var frames = await SampleFramesAsync(sample);
                var prompt = template.BuildPrompt(MultipleChoicePrompt.Build(sample.Question, sample.Options));
                foreach (var mode in settings.Modes)
                {
                    bar.Describe($"eval: {sample.Id} {mode.WireName()}");
                    if (done.Contains(EvalRecord.KeyOf(sample.Id, mode.WireName()))) continue;
                    var record = await AnswerAsync(engine, tokenizer, sample, frames, prompt, mode);
                    results.Append(record);
                    bar.Advance();
                    Log($"{sample.Id} {record.Mode}: '{record.Output.Trim()}' → {record.Predicted ?? "?"} (answer {record.Answer}), {record.VisualTokens} visual tokens, {record.Seconds:F2} s");
                }
            }
        }
        bar.Complete();
        return EvalReport.From(results.Read().Where(r => samples.Any(s => s.Id == r.SampleId)), settings.Modes.Select(m => m.WireName()).ToList(), samples.Count);
    }

    private void Log(string line) => progress.Log("[eval] " + line);

    private async Task<EvalRecord> AnswerAsync(InferenceEngine engine, QwenTokenizer tokenizer, EvalSample sample, SampledFrames frames,
        int[] prompt, CompressionMode mode)
    {
        var clock = Stopwatch.StartNew();
        string key = $"{sample.Id}/{mode.WireName()}";
        CompressionSettings? compression = mode == CompressionMode.Full ? null
            : CompressionSettings.For(mode, frames.Rgb.Count, settings.K, settings.MinK, settings.Elbow, settings.Tokens);
        var encoding = await engine.EncodeAsync(new EncodeRequest(key, frames.Rgb, mode, compression));
        // The service's answer path: the same stop ids, stop strings and detokenisation as an HTTP ask.
        var answer = await AnswerGeneration.GenerateAsync(engine, tokenizer,
            new AskRequest(key, encoding, prompt, SamplingOptions.Greedy(settings.MaxNewTokens), UsePrefixCache: false), settings.Stop);
        engine.ForgetVideo(key);
        var output = answer.Text;
        var letter = MultipleChoicePrompt.ParseLetter(output, sample.Options.Count);
        string expected = sample.Answer.Trim().ToUpperInvariant();
        return new EvalRecord(sample.Id, mode.WireName(), expected, letter?.ToString(), letter?.ToString() == expected,
            encoding.VisualTokens, clock.Elapsed.TotalSeconds, output, compression?.Tokens?.WireName(), encoding.Compressed?.K);
    }

    private async Task<SampledFrames> SampleFramesAsync(EvalSample sample)
    {
        var request = new FrameRequest(settings.Frames);
        if (Uri.TryCreate(sample.Video, UriKind.Absolute, out var url) && url.Scheme is "http" or "https")
        {
            using var fetcher = new VideoUrlFetcher(new UrlFetchOptions { AllowPrivateAddresses = settings.AllowPrivateUrls }, new TempVideoStore(), Probe);
            using var video = await fetcher.FetchAsync(url);
            return await _sampler.SampleAsync(video.Path, video.Info, request);
        }
        var path = Path.IsPathRooted(sample.Video) ? sample.Video : Path.Combine(Path.GetDirectoryName(Path.GetFullPath(settings.Dataset))!, sample.Video);
        return await _sampler.SampleAsync(path, request);
    }
}
