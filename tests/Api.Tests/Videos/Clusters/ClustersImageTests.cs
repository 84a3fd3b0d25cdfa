using System.Net;
using System.Net.Http.Headers;
using Microsoft.Extensions.DependencyInjection;
using SkiaSharp;
using VQToken.Api.Cache;
using VQToken.Api.Inference;
using VQToken.Api.ServiceDefaults;
using VQToken.Api.Tests.Infrastructure;
using VQToken.Api.Videos;
using VQToken.Api.Videos.Clusters;
using VQToken.Engine.Compression;

namespace VQToken.Api.Tests.Videos.Clusters;

public class ClustersImageTests(VideosApiFixture service) : IClassFixture<VideosApiFixture>
{
    private static readonly SKColor VideoColour = new(0x28, 0x78, 0xC8);
    private HttpClient Client => service.Client;

    [Fact]
    public async Task Clusters_png_tints_every_cell_with_its_cluster_colour_over_the_frame_and_alone_once_the_source_is_evicted()
    {
        using var video = SolidColourVideo.Create(VideoColour);
        var (_, body, _) = await Client.UploadAsync(video.Path, new Dictionary<string, string> { ["frames"] = "3", ["k"] = "6" });
        var id = (string)body["id"]!;
        Assert.Equal("ready", (string?)(await Client.WaitProcessedAsync(id))["status"]);
        var entry = await CachedEntryAsync(id);
        Assert.Equal((3, 27), (entry.Frames, entry.Grid));
        Assert.True(entry.IndexMapValues.ToArray().Distinct().Count() >= 2, "the index map has a single cluster; nothing to tell apart");

        var overFrames = await Client.GetAsync($"/videos/{id}/clusters.png");
        Assert.Equal(HttpStatusCode.OK, overFrames.StatusCode);
        Assert.Equal("image/png", overFrames.Content.Headers.ContentType?.MediaType);
        Assert.Equal("frames", overFrames.Headers.GetValues(ClustersApi.BackgroundHeader).Single());
        using var framesPicture = await DecodeAsync(overFrames);

        await service.Factory.Services.GetRequiredService<ISourceStore>().DeleteAsync(id);
        var alone = await Client.GetAsync($"/videos/{id}/clusters.png");
        Assert.Equal(HttpStatusCode.OK, alone.StatusCode);
        Assert.Equal("cells", alone.Headers.GetValues(ClustersApi.BackgroundHeader).Single());
        Assert.NotEqual(overFrames.Headers.ETag, alone.Headers.ETag);
        using var cellsPicture = await DecodeAsync(alone);

        // 3 frames of 27×27 cells of 8 px in one row, 4 px apart and around, a caption strip under each.
        foreach (var picture in new[] { framesPicture, cellsPicture })
            Assert.Equal((3 * (27 * 8 + 4) + 4, 27 * 8 + ClusterPicture.CaptionHeight + 8), (picture.Width, picture.Height));

        var colourOf = new Dictionary<int, SKColor>();
        for (int t = 0; t < entry.Frames; t++)
        for (int y = 0; y < entry.Grid; y++)
        for (int x = 0; x < entry.Grid; x++)
        {
            int cluster = entry.IndexMapValues[(t * entry.Grid + y) * entry.Grid + x];
            var (px, py) = (4 + t * (27 * 8 + 4) + x * 8 + 4, 4 + y * 8 + 4);   // the middle of the cell
            var cell = cellsPicture.GetPixel(px, py);
            if (!colourOf.TryAdd(cluster, cell))
                Assert.True(colourOf[cluster] == cell, $"cluster {cluster} drawn {colourOf[cluster]} and {cell} (frame {t}, cell {y},{x})");
            var tinted = framesPicture.GetPixel(px, py);
            var expected = Blend(cell, VideoColour, ClusterPicture.TintAlpha);
            Assert.True(Close(tinted, expected, 8), $"frame {t} cell {y},{x}: {tinted}, expected {cell} at alpha {ClusterPicture.TintAlpha} over {VideoColour} = {expected}");
        }
        Assert.Equal(colourOf.Count, colourOf.Values.Distinct().Count());   // distinct clusters, distinct colours

        var unchanged = new HttpRequestMessage(HttpMethod.Get, $"/videos/{id}/clusters.png");
        unchanged.Headers.IfNoneMatch.Add(alone.Headers.ETag!);
        Assert.Equal(HttpStatusCode.NotModified, (await Client.SendAsync(unchanged)).StatusCode);
    }

    [Fact]
    public async Task Clusters_of_a_full_mode_video_are_a_409_saying_there_are_none()
    {
        var (_, body, _) = await Client.UploadAsync(TestVideos.Mp4(5), new Dictionary<string, string> { ["frames"] = "2", ["compression"] = "full" });
        var response = await Client.GetAsync($"/videos/{(string)body["id"]!}/clusters.png");
        var problem = await ApiClient.BodyAsync(response);
        ApiClient.AssertProblem(HttpStatusCode.Conflict, Problems.NoClusters, response.StatusCode, problem);
        Assert.Contains("full", (string?)problem["detail"]);
    }

    [Fact]
    public async Task Clusters_of_a_video_not_ready_are_a_409_not_ready()
    {
        var queued = VideoRecord.CreateQueued(Caller.Anonymous, new VideoSource(VideoSourceKind.Upload, "later.mp4"), new string('a', 64),
            CompressionSettings.Fixed(2, 4), DateTimeOffset.UtcNow);
        var created = await service.Factory.Services.GetRequiredService<IVideoStore>().CreateOrGetExistingAsync(queued);   // never enqueued: stays queued
        var response = await Client.GetAsync($"/videos/{created.Video.Id}/clusters.png");
        ApiClient.AssertProblem(HttpStatusCode.Conflict, Problems.NotReady, response.StatusCode, await ApiClient.BodyAsync(response));
    }

    [Theory]
    [InlineData("01jz8k3q4m5n6p7r8s9t0v1w2x")]
    [InlineData("not-an-id")]
    public async Task Clusters_of_an_unknown_video_are_a_404(string id)
    {
        var response = await Client.GetAsync($"/videos/{id}/clusters.png");
        ApiClient.AssertProblem(HttpStatusCode.NotFound, Problems.NotFound, response.StatusCode, await ApiClient.BodyAsync(response));
    }

    [Fact]
    public void Palette_gives_distinct_colours_to_the_first_thousand_clusters()
    {
        var colours = Enumerable.Range(0, 1024).Select(ClusterPalette.Color).ToList();
        Assert.Equal(colours.Count, colours.Distinct().Count());
    }

    [Fact]
    public void Caption_under_each_tile_gives_that_frame_time_and_leaves_the_cells_alone()
    {
        const int grid = 4;
        var indexMap = Enumerable.Range(0, 2 * grid * grid).Select(i => (short)(i % 3)).ToArray();
        var entry = CompressedVideo.FromArrays(2, grid, 3, 2, new float[3 * 2], indexMap, CompressionSettings.Fixed(2, 3));

        using var numbered = SKBitmap.Decode(ClusterPicture.Render(entry, null));
        using var timed = SKBitmap.Decode(ClusterPicture.Render(entry, null, [0.5, 12.25]));
        using var later = SKBitmap.Decode(ClusterPicture.Render(entry, null, [0.5, 17.75]));

        Assert.Equal("12.25s", ClusterPicture.Caption(1, [0.5, 12.25], null));
        Assert.Equal("#2", ClusterPicture.Caption(1, null, null));
        Assert.Equal("0.5s 31%", ClusterPicture.Caption(0, [0.5, 12.25], 0.314));
        int tile = grid * ClusterPicture.CellPixels, strip = ClusterPicture.Gap + tile;
        var tileOne = ClusterPicture.TileOrigin(1, grid, grid);
        Assert.True(SameArea(numbered, timed, 0, 0, timed.Width, strip), "a caption changed the cells");
        Assert.False(SameArea(numbered, timed, 0, strip, timed.Width, ClusterPicture.CaptionHeight), "the caption strip is the same with and without times");
        Assert.True(SameArea(timed, later, 0, strip, tileOne.X, ClusterPicture.CaptionHeight), "frame 1's time changed frame 0's caption");
        Assert.False(SameArea(timed, later, tileOne.X, strip, tile, ClusterPicture.CaptionHeight), "frame 1's caption does not show its time");
    }

    [Fact]
    public void Heat_picture_draws_the_hottest_cell_hottest_and_leaves_cells_without_attention_clear_over_the_frame()
    {
        const int grid = 3, size = 12;
        var scores = new float[2 * grid * grid];
        scores[grid * grid + 1 * grid + 2] = 0.6f;   // frame 1, cell (1, 2): the hottest
        scores[grid * grid + 0] = 0.15f;             // frame 1, cell (0, 0): a quarter of it
        var rgb = new byte[2 * size * size * 3];
        for (int p = 0; p < rgb.Length; p += 3) (rgb[p], rgb[p + 1], rgb[p + 2]) = (VideoColour.Red, VideoColour.Green, VideoColour.Blue);

        using var alone = SKBitmap.Decode(ClusterPicture.RenderHeat(scores, 2, grid, null, [0, 1.5]));
        using var over = SKBitmap.Decode(ClusterPicture.RenderHeat(scores, 2, grid, new VQToken.Ingestion.RgbFrames(2, size, rgb), [0, 1.5]));

        SKColor At(SKBitmap picture, int t, int y, int x)
        {
            var origin = ClusterPicture.TileOrigin(t, grid, grid);
            return picture.GetPixel(origin.X + x * 8 + 4, origin.Y + y * 8 + 4);
        }
        Assert.Equal(ClusterPicture.Heat(1), At(alone, 1, 1, 2));
        Assert.Equal(ClusterPicture.Heat(0.25), At(alone, 1, 0, 0));
        Assert.Equal(ClusterPicture.Heat(0), At(alone, 0, 1, 1));
        Assert.NotEqual(ClusterPicture.Heat(0), ClusterPicture.Heat(0.25));
        Assert.True(Close(At(over, 0, 1, 1), VideoColour, 2), $"a cell without attention is tinted: {At(over, 0, 1, 1)}");
        var hottest = Blend(ClusterPicture.Heat(1), VideoColour, ClusterPicture.HeatAlpha);
        Assert.True(Close(At(over, 1, 1, 2), hottest, 8), $"the hottest cell is {At(over, 1, 1, 2)}, expected {hottest}");
        Assert.Equal("1.5s 100%", ClusterPicture.Caption(1, [0, 1.5], 1.0));
        Assert.Throws<ArgumentException>(() => ClusterPicture.RenderHeat(scores.AsSpan(1), 2, grid, null, null));
    }

    [Fact]
    public void A_long_videos_pictures_draw_at_most_64_tiles_spread_evenly_or_the_hottest_frames_in_time_order()
    {
        const int grid = 2, frames = 1024;
        var entry = CompressedVideo.FromArrays(frames, grid, 2, 2, new float[2 * 2], new short[frames * grid * grid], CompressionSettings.Fixed(frames, 2));
        using var clusters = SKBitmap.Decode(ClusterPicture.Render(entry, null));
        int tile = grid * ClusterPicture.CellPixels;
        Assert.Equal(ClusterPicture.MaxColumns * (tile + ClusterPicture.Gap) + ClusterPicture.Gap, clusters.Width);
        Assert.Equal(ClusterPicture.MaxTiles / ClusterPicture.MaxColumns * (tile + ClusterPicture.CaptionHeight + ClusterPicture.Gap) + ClusterPicture.Gap, clusters.Height);
        var shown = ClusterPicture.Shown(frames);
        Assert.Equal(ClusterPicture.MaxTiles, shown.Length);
        Assert.Equal(0, shown[0]);
        Assert.Equal(frames - 1, shown[^1]);
        Assert.Equal(Enumerable.Range(0, 10), ClusterPicture.Shown(10));

        // Evidence on 100 frames: frames 3, 50 and 99 hold the most; every one of the 64 drawn is at least as hot as any left out.
        var scores = new float[100 * grid * grid];
        for (int t = 0; t < 100; t++) scores[t * grid * grid] = t % 7 + 1;
        scores[3 * grid * grid] = scores[50 * grid * grid + 1] = scores[99 * grid * grid + 3] = 100;
        var hottest = ClusterPicture.Hottest(scores, 100, grid);
        Assert.Equal(ClusterPicture.MaxTiles, hottest.Length);
        Assert.Equal(hottest.Order(), hottest);
        Assert.Contains(3, hottest);
        Assert.Contains(50, hottest);
        Assert.Contains(99, hottest);
        float FrameScore(int t) => scores.AsSpan(t * grid * grid, grid * grid).ToArray().Sum();
        Assert.True(hottest.Min(FrameScore) >= Enumerable.Range(0, 100).Except(hottest).Max(FrameScore), "a colder frame was drawn instead of a hotter one");
        using var heat = SKBitmap.Decode(ClusterPicture.RenderHeat(scores, 100, grid, null, null));
        Assert.Equal(clusters.Height, heat.Height);
        Assert.Equal(Enumerable.Range(0, 5), ClusterPicture.Hottest(scores.AsSpan(0, 5 * grid * grid), 5, grid));
    }

    private static bool SameArea(SKBitmap a, SKBitmap b, int x, int y, int width, int height)
    {
        for (int py = y; py < y + height; py++)
            for (int px = x; px < x + width; px++)
                if (a.GetPixel(px, py) != b.GetPixel(px, py)) return false;
        return true;
    }

    private async Task<CompressedVideo> CachedEntryAsync(string id)
    {
        var fingerprint = service.Factory.Services.GetRequiredService<ModelHost>().Fingerprint;
        var lookup = await service.Factory.Services.GetRequiredService<ICompressedCache>().GetAsync(id, fingerprint);
        Assert.Equal(CacheLookupStatus.Hit, lookup.Status);
        return lookup.Entry!.Encoding.Compressed!;
    }

    private static async Task<SKBitmap> DecodeAsync(HttpResponseMessage response) =>
        SKBitmap.Decode(await response.Content.ReadAsByteArrayAsync()) ?? throw new InvalidDataException("the body is not an image SkiaSharp can decode");

    private static SKColor Blend(SKColor over, SKColor under, byte alpha) => new(
        (byte)((over.Red * alpha + under.Red * (255 - alpha)) / 255),
        (byte)((over.Green * alpha + under.Green * (255 - alpha)) / 255),
        (byte)((over.Blue * alpha + under.Blue * (255 - alpha)) / 255));

    private static bool Close(SKColor a, SKColor b, int tolerance) =>
        Math.Abs(a.Red - b.Red) <= tolerance && Math.Abs(a.Green - b.Green) <= tolerance && Math.Abs(a.Blue - b.Blue) <= tolerance;
}
