using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace VQToken.Engine.Runtime;

/// <summary>The engine's instruments (System.Diagnostics.Metrics, meter <c>VQToken.Engine</c>) and
/// its ActivitySource, picked up by the host's OpenTelemetry wiring.</summary>
public sealed class EngineMetrics : IDisposable
{
    public const string Name = "VQToken.Engine";
    public static readonly ActivitySource Activities = new(Name);

    private readonly Meter _meter = new(Name);
    internal Histogram<int> DecodeBatchSize { get; }
    internal Histogram<int> VisionBatchFrames { get; }
    internal Counter<long> TokensGenerated { get; }
    internal Counter<long> FramesEncoded { get; }
    internal Counter<long> PrefixCacheLookups { get; }
    internal Counter<long> Rejected { get; }
    internal Histogram<double> TimeToFirstToken { get; }
    internal Histogram<double> PrefillDuration { get; }
    internal Histogram<double> DecodeStepDuration { get; }
    internal Histogram<double> VisionBatchDuration { get; }
    internal Histogram<double> CompressionDuration { get; }

    public EngineMetrics(Func<int> queueDepth, Func<int> activeSequences, Func<long> prefixCacheBytes)
    {
        _meter.CreateObservableGauge("vqtoken.engine.queue_depth", queueDepth, description: "Requests waiting for the engine");
        _meter.CreateObservableGauge("vqtoken.engine.active_sequences", activeSequences, description: "Sequences being decoded");
        _meter.CreateObservableGauge("vqtoken.engine.prefix_cache_bytes", prefixCacheBytes, "By", "Memory held by cached prompt prefixes");
        DecodeBatchSize = _meter.CreateHistogram<int>("vqtoken.engine.decode_batch_size", description: "Sequences per decode step");
        VisionBatchFrames = _meter.CreateHistogram<int>("vqtoken.engine.vision_batch_frames", description: "Frames per vision batch");
        TokensGenerated = _meter.CreateCounter<long>("vqtoken.engine.tokens_generated", description: "Generated tokens");
        FramesEncoded = _meter.CreateCounter<long>("vqtoken.engine.frames_encoded", description: "Frames through the vision tower");
        PrefixCacheLookups = _meter.CreateCounter<long>("vqtoken.engine.prefix_cache_lookups", description: "Prefix cache lookups by result (hit, miss)");
        Rejected = _meter.CreateCounter<long>("vqtoken.engine.rejected", description: "Requests refused because the queue was full");
        TimeToFirstToken = _meter.CreateHistogram<double>("vqtoken.engine.time_to_first_token", "ms");
        PrefillDuration = _meter.CreateHistogram<double>("vqtoken.engine.prefill_duration", "ms");
        DecodeStepDuration = _meter.CreateHistogram<double>("vqtoken.engine.decode_step_duration", "ms");
        VisionBatchDuration = _meter.CreateHistogram<double>("vqtoken.engine.vision_batch_duration", "ms");
        CompressionDuration = _meter.CreateHistogram<double>("vqtoken.engine.compression_duration", "ms");
    }

    public void Dispose() => _meter.Dispose();
}
