using System.Net;
using Microsoft.Extensions.DependencyInjection;
using VQToken.Api.Cache;
using VQToken.Api.Inference;
using VQToken.Api.Tests.Infrastructure;
using PreviousCacheFormat = VQToken.Api.Tests.Storage.PreviousCacheFormat;

namespace VQToken.Api.Tests.Videos;

public class CorruptCacheTests
{
    [Fact]
    public async Task Corrupted_cache_entry_is_detected_recomputed_and_the_answer_is_unchanged()
    {
        // No in-memory copy: every ask reads the stored entry.
        using var factory = new ServiceFactory(new Dictionary<string, string?> { ["Ask:EncodingCacheEntries"] = "0" });
        var client = await factory.ReadyClientAsync();
        var (_, body, _) = await client.UploadAsync(TestVideos.Mp4(60), new Dictionary<string, string> { ["frames"] = "3", ["k"] = "6" });
        var id = (string)body["id"]!;
        var ready = await client.WaitProcessedAsync(id);
        var question = new { question = "What do you see?", maxNewTokens = 8 };
        var (status, before) = await client.AskAsync(id, question);
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal("hit", (string?)before["cache"]!["codebook"]);

        var entries = Directory.GetFiles(factory.DataDirectory, "*", SearchOption.AllDirectories)
            .Where(f => f.Contains(Path.DirectorySeparatorChar + "cache" + Path.DirectorySeparatorChar) && f.Contains(id)).ToList();
        Assert.Single(entries);
        var bytes = await File.ReadAllBytesAsync(entries[0]);
        for (int i = bytes.Length / 2; i < bytes.Length / 2 + 16; i++) bytes[i] ^= 0x5A;
        await File.WriteAllBytesAsync(entries[0], bytes);

        var (againStatus, after) = await client.AskAsync(id, question);
        Assert.Equal(HttpStatusCode.OK, againStatus);
        Assert.Equal("miss", (string?)after["cache"]!["codebook"]);          // recomputed from the stored source
        Assert.Equal((string?)before["answer"], (string?)after["answer"]);
        var video = await ApiClient.BodyAsync(await client.GetAsync($"/videos/{id}"));
        Assert.Equal("ready", (string?)video["status"]);
        Assert.NotEqual((string?)ready["updatedAt"], (string?)video["updatedAt"]);
        var (_, third) = await client.AskAsync(id, question);
        Assert.Equal("hit", (string?)third["cache"]!["codebook"]);
    }

    [Fact]
    public async Task Cache_entry_of_the_previous_format_is_recomputed_and_the_answer_is_unchanged()
    {
        using var factory = new ServiceFactory(new Dictionary<string, string?> { ["Ask:EncodingCacheEntries"] = "0" });
        var client = await factory.ReadyClientAsync();
        var (_, body, _) = await client.UploadAsync(TestVideos.Mp4(61), new Dictionary<string, string> { ["frames"] = "3", ["k"] = "6" });
        var id = (string)body["id"]!;
        await client.WaitProcessedAsync(id);
        var question = new { question = "What do you see?", maxNewTokens = 8 };
        var (_, before) = await client.AskAsync(id, question);
        Assert.Equal("hit", (string?)before["cache"]!["codebook"]);

        // The same codebook and index map, as the previous format wrote them.
        var fingerprint = factory.Services.GetRequiredService<ModelHost>().Fingerprint;
        var current = await factory.Services.GetRequiredService<ICompressedCache>().GetAsync(id, fingerprint);
        var entries = Directory.GetFiles(factory.DataDirectory, "*", SearchOption.AllDirectories)
            .Where(f => f.Contains(Path.DirectorySeparatorChar + "cache" + Path.DirectorySeparatorChar) && f.Contains(id)).ToList();
        await File.WriteAllBytesAsync(Assert.Single(entries), PreviousCacheFormat.Write(current.Entry!));

        var (status, after) = await client.AskAsync(id, question);
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal("miss", (string?)after["cache"]!["codebook"]);          // recomputed from the stored source
        Assert.Equal((string?)before["answer"], (string?)after["answer"]);
        var (_, third) = await client.AskAsync(id, question);
        Assert.Equal("hit", (string?)third["cache"]!["codebook"]);
        Assert.Equal(CacheLookupStatus.Hit, (await factory.Services.GetRequiredService<ICompressedCache>().GetAsync(id, fingerprint)).Status);
    }
}
