using System.CommandLine;
using System.Text.Encodings.Web;
using System.Text.Json;
using TorchSharp;
using VQToken.Engine.Runtime;
using VQToken.Ingestion;
using VQToken.Ingestion.Url;

namespace VQToken.Cli;

/// <summary>`frames`: samples a video file or URL the way the service does and prints one JSON line.</summary>
public sealed class FramesCommand : CliCommand
{
    private readonly Argument<string> _source = new("video-file-or-url") { Description = "a video file, or an http(s) URL fetched like the service does" };
    private readonly Option<int?> _frames = CliOptions.OptionalInt("--frames", "frames to sample (default: the service's)", min: 1);
    private readonly Option<double?> _fps = CliOptions.OptionalPositive("--fps", "sample at this rate instead of a frame count");
    private readonly Option<double?> _start = CliOptions.OptionalNonNegative("--start", "sample from this time of the video on, in seconds");
    private readonly Option<double?> _end = CliOptions.OptionalPositive("--end", "sample before this time of the video, in seconds");
    private readonly Option<bool> _allowPrivate = CliOptions.Flag("--allow-private", "let the URL point at private or loopback addresses");

    public FramesCommand() : base("frames", "Sample frames of a video file or URL the way the service does; print one JSON line.")
    {
        Add(_source);
        Add(_frames);
        Add(_fps);
        Add(_start);
        Add(_end);
        Add(_allowPrivate);
    }

    protected override int Execute(ParseResult parsed)
    {
        try
        {
            var request = new FrameRequest(parsed.GetValue(_frames), parsed.GetValue(_fps), parsed.GetValue(_start), parsed.GetValue(_end));
            Console.WriteLine(SampleAsync(parsed.GetRequiredValue(_source), request, parsed.GetValue(_allowPrivate)).GetAwaiter().GetResult());
            return 0;
        }
        catch (VideoIngestException e)
        {
            return Fail(e.Kind.ToString(), e.Message);
        }
        catch (Exception e) when (e is ArgumentException or FormatException or OverflowException)
        {
            return Fail("InvalidArguments", e.Message, exitCode: 2);
        }
        catch (Exception e)
        {
            return Fail("Internal", e.Message);
        }
    }

    internal static async Task<string> SampleAsync(string source, FrameRequest request, bool allowPrivate)
    {
        var probe = new VideoProbe(new VideoOptions());
        var sampler = new FrameSampler(probe);
        if (Uri.TryCreate(source, UriKind.Absolute, out var url) && !url.IsFile)
        {
            using var fetcher = new VideoUrlFetcher(new UrlFetchOptions { AllowPrivateAddresses = allowPrivate }, new TempVideoStore(), probe);
            using var video = await fetcher.FetchAsync(url);
            var frames = await sampler.SampleAsync(video.Path, video.Info, request);
            return Describe(frames, video.Sha256);
        }
        var path = Path.GetFullPath(url?.IsFile == true ? url.LocalPath : source);
        if (!File.Exists(path)) throw new VideoIngestException(VideoErrorKind.NotAVideo, $"no such file: {source}");
        var sha256 = await Sha256FileWriter.HashFileAsync(path, CancellationToken.None);
        return Describe(await sampler.SampleAsync(path, request), sha256);
    }

    private static readonly JsonSerializerOptions Json = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    private static string Describe(SampledFrames sampled, string sha256)
    {
        using var scope = torch.NewDisposeScope();
        var pixels = sampled.Rgb.ToPixels(0, sampled.Rgb.Count);   // [N, 3, S, S], the vision tower's input
        return JsonSerializer.Serialize(new
        {
            ok = true,
            shape = pixels.shape,
            min = pixels.min().item<float>(),
            max = pixels.max().item<float>(),
            durationSeconds = Math.Round(sampled.Video.DurationSeconds, 3),
            sha256,
            frameIndices = sampled.FrameIndices,
        }, Json);
    }

    private static int Fail(string error, string message, int exitCode = 1)
    {
        Console.WriteLine(JsonSerializer.Serialize(new { ok = false, error, message }, Json));
        return exitCode;
    }
}
