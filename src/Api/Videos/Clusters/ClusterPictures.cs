using System.Collections.Concurrent;
using System.ComponentModel.DataAnnotations;
using System.Diagnostics.Metrics;
using Microsoft.Extensions.Caching.Memory;
using Microsoft.Extensions.Options;
using VQToken.Engine.Runtime;

namespace VQToken.Api.Videos.Clusters;

/// <summary>Settings of <c>GET /videos/{id}/clusters.png</c> (section <c>Clusters</c>).</summary>
public sealed class ClustersOptions
{
    public const string Section = "Clusters";

    /// <summary>Pictures drawn at once by this replica (each runs ffmpeg over the source).</summary>
    [Range(1, 64)] public int MaxConcurrentRenders { get; set; } = 2;

    /// <summary>How long a request waits for a free render slot before a 429 with Retry-After.</summary>
    [Range(typeof(TimeSpan), "00:00:00", "00:05:00")] public TimeSpan RenderWait { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>Frame decoding time of one picture; past it the cells are drawn alone.</summary>
    [Range(typeof(TimeSpan), "00:00:01", "01:00:00")] public TimeSpan RenderTimeout { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>Memory for rendered pictures kept per replica; 0 = none kept.</summary>
    [Range(0L, long.MaxValue)] public long CacheBytes { get; set; } = 64L << 20;
}

/// <summary>A drawn cluster picture: its PNG and whether the sampled frames are under the cells.</summary>
public sealed record ClusterPng(byte[] Png, bool OverFrames);

/// <summary>All render slots stayed busy for <see cref="ClustersOptions.RenderWait"/>.</summary>
public sealed class ClusterRendersBusyException(TimeSpan retryAfter) : Exception("every cluster picture render slot is busy; retry later")
{
    public TimeSpan RetryAfter { get; } = retryAfter;
}

/// <summary>Rendered cluster pictures per video, so ffmpeg runs once per (video, entry, model) rather than
/// on every request: kept in memory under a size bound, one render per picture however many requests
/// want it, and at most <see cref="ClustersOptions.MaxConcurrentRenders"/> renders at once.</summary>
public sealed class ClusterPictures : IDisposable
{
    private readonly ClustersOptions _options;
    private readonly MemoryCache _pictures;
    private readonly SemaphoreSlim _slots;
    private readonly ConcurrentDictionary<string, Lazy<Task<ClusterPng>>> _inFlight = new(StringComparer.Ordinal);
    private readonly Meter _meter = new(EngineMetrics.Name);   // exported with the engine's instruments
    private readonly Counter<long> _renders;
    private long _started;
    private int _running;
    private int _peak;

    public ClusterPictures(IOptions<ClustersOptions> options)
    {
        _options = options.Value;
        _pictures = new MemoryCache(new MemoryCacheOptions { SizeLimit = Math.Max(1, _options.CacheBytes) });
        _slots = new SemaphoreSlim(_options.MaxConcurrentRenders, _options.MaxConcurrentRenders);
        _renders = _meter.CreateCounter<long>("vqtoken.clusters.renders", description: "Cluster pictures drawn (each decodes the source's frames)");
    }

    /// <summary>Renders started since this replica started.</summary>
    public long RendersStarted => Interlocked.Read(ref _started);

    /// <summary>Most renders that ran at the same time.</summary>
    public int PeakConcurrentRenders => Volatile.Read(ref _peak);

    /// <summary>The picture stored under <paramref name="tag"/> (which changes whenever the picture would:
    /// new entry, new model, source evicted), else one drawn by <paramref name="render"/>, which gets a
    /// token cancelled after <see cref="ClustersOptions.RenderTimeout"/>. Kept under <paramref name="key"/> (default: the
    /// video id, its one cluster picture; an answer's evidence picture has its own).</summary>
    public async Task<ClusterPng> GetAsync(string videoId, string tag, Func<CancellationToken, Task<ClusterPng>> render, CancellationToken cancellationToken, string? key = null)
    {
        key ??= videoId;
        if (_pictures.TryGetValue(key, out Stored? stored) && stored!.Tag == tag) return stored.Picture;
        var flight = _inFlight.GetOrAdd(tag, _ => new Lazy<Task<ClusterPng>>(() => RenderOnceAsync(key, tag, render)));
        return await flight.Value.WaitAsync(cancellationToken);
    }

    /// <summary>Drops a deleted video's picture.</summary>
    public void Forget(string videoId) => _pictures.Remove(videoId);

    private async Task<ClusterPng> RenderOnceAsync(string key, string tag, Func<CancellationToken, Task<ClusterPng>> render)
    {
        try
        {
            if (!await _slots.WaitAsync(_options.RenderWait))
                throw new ClusterRendersBusyException(_options.RenderWait > TimeSpan.FromSeconds(1) ? _options.RenderWait : TimeSpan.FromSeconds(1));
            try
            {
                Interlocked.Increment(ref _started);
                _renders.Add(1);
                int running = Interlocked.Increment(ref _running);
                for (int peak = _peak; running > peak && Interlocked.CompareExchange(ref _peak, running, peak) != peak; peak = _peak) { }
                using var timeout = new CancellationTokenSource(_options.RenderTimeout);
                var picture = await render(timeout.Token);
                if (_options.CacheBytes > 0)
                    _pictures.Set(key, new Stored(tag, picture), new MemoryCacheEntryOptions { Size = picture.Png.Length, SlidingExpiration = TimeSpan.FromHours(1) });
                return picture;
            }
            finally
            {
                Interlocked.Decrement(ref _running);
                _slots.Release();
            }
        }
        finally
        {
            _inFlight.TryRemove(tag, out _);
        }
    }

    public void Dispose()
    {
        _pictures.Dispose();
        _slots.Dispose();
        _meter.Dispose();
    }

    private sealed record Stored(string Tag, ClusterPng Picture);
}
