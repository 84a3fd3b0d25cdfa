using VQToken.Api.Videos;

namespace VQToken.Api.Processing;

/// <summary>One delivery of "process this video". <see cref="DeliveryId"/> names this delivery (a
/// Redis stream entry id, or a local sequence number); <see cref="DeliveryCount"/> is above 1 when
/// the job was reclaimed from a consumer that went quiet.</summary>
public sealed record VideoJob(string VideoId, string DeliveryId, string Consumer, int DeliveryCount);
