namespace VQToken.Api.Videos;

/// <summary>Cursor paging shared by the stores: ids sort by creation time, so the cursor is the last
/// id of a page and the next page is the ids below it.</summary>
internal static class VideoPaging
{
    /// <summary><paramref name="fetched"/> holds up to limit + 1 records, newest first; the extra one
    /// only says there is a next page.</summary>
    public static VideoPage Page(IReadOnlyList<VideoRecord> fetched, int limit)
    {
        var items = fetched.Take(limit).ToList();
        return new VideoPage(items, fetched.Count > limit ? items[^1].Id : null);
    }
}
