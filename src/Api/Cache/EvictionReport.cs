using VQToken.Api.Storage;

namespace VQToken.Api.Cache;

/// <summary>What one eviction pass did. <see cref="BytesAfter"/> can stay above the bound when only
/// protected items are left (sources not yet cached, entries whose source is gone).</summary>
public sealed record EvictionReport(long BytesBefore, long BytesAfter, int SourcesEvicted, int EntriesEvicted);

/// <summary>What one orphan sweep removed: sources and cache entries of videos that no longer have a
/// record, and staged files older than <see cref="StorageOptions.StagingMaxAge"/>.</summary>
public sealed record OrphanReport(int Sources, int Entries, int StagedFiles);
