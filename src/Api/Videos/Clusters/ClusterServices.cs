using VQToken.Api.Cache;
using VQToken.Api.Inference;
using VQToken.Api.Videos;
using VQToken.Ingestion;

namespace VQToken.Api.Videos.Clusters;

/// <summary>Handler dependencies of <c>GET /videos/{id}/clusters.png</c> ([AsParameters], from DI).</summary>
public readonly record struct ClusterServices(
    IVideoStore Videos, CachedVideoResolver Resolver, ISourceStore Sources, FrameSampler Sampler, ModelHost Model,
    ClusterPictures Pictures, ILoggerFactory Loggers);
