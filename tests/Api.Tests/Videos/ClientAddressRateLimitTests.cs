using System.Net;
using VQToken.Api.Tests.Infrastructure;

namespace VQToken.Api.Tests.Videos;

/// <summary>Requests without a valid key are rate-limited per client address (the limiter runs before the key
/// check), and the client address is the one a trusted proxy forwards — never one an untrusted sender claims.
/// Real Kestrel on loopback: the test client is the proxy at 127.0.0.1; X-Forwarded-For only names addresses.</summary>
public class ClientAddressRateLimitTests
{
    private const string Key = "rate-limit-key";

    private static ServiceFactory Service(params (string Key, string Value)[] extra)
    {
        var settings = new Dictionary<string, string?>
        {
            ["Auth:ApiKeys:0"] = Key,
            ["RateLimit:PermitsPerSecond"] = "0.05",   // one permit per 20 s: nothing refills during the test
            ["RateLimit:Burst"] = "3",
        };
        foreach (var (k, v) in extra) settings[k] = v;
        return new ServiceFactory(settings);
    }

    private static async Task<HttpStatusCode> SendAsync(HttpClient client, string forwardedFor, string? key)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "/videos");
        request.Headers.Add("X-Forwarded-For", forwardedFor);
        if (key is not null) request.Headers.Add("X-Api-Key", key);
        using var response = await client.SendAsync(request);
        if (response.StatusCode == HttpStatusCode.TooManyRequests)
            ApiClient.AssertProblem(HttpStatusCode.TooManyRequests, "urn:vqtoken:problem:rate-limited", response.StatusCode, await ApiClient.BodyAsync(response));
        return response.StatusCode;
    }

    [Fact]
    public async Task Keyless_and_wrong_key_flood_is_limited_for_the_flooder_only()
    {
        using var factory = Service();
        using var client = new HttpClient { BaseAddress = factory.StartKestrel() };

        var flood = new List<HttpStatusCode>();
        for (int i = 0; i < 10; i++) flood.Add(await SendAsync(client, "198.51.100.7", i % 2 == 0 ? null : "wrong-key-" + i));

        Assert.Equal([HttpStatusCode.Unauthorized, HttpStatusCode.Unauthorized, HttpStatusCode.Unauthorized], flood.Take(3));
        Assert.All(flood.Skip(3), s => Assert.Equal(HttpStatusCode.TooManyRequests, s));
        Assert.Equal(HttpStatusCode.Unauthorized, await SendAsync(client, "198.51.100.8", null));   // another client: its own bucket
        Assert.Equal(HttpStatusCode.OK, await SendAsync(client, "198.51.100.7", Key));              // a valid key: the key's bucket
    }

    [Fact]
    public async Task Forwarded_address_from_an_untrusted_sender_is_ignored()
    {
        using var factory = Service(("Http:KnownProxies:0", "192.0.2.10"));   // loopback is not a trusted proxy here
        using var client = new HttpClient { BaseAddress = factory.StartKestrel() };

        var flood = new List<HttpStatusCode>();
        for (int i = 0; i < 5; i++) flood.Add(await SendAsync(client, "198.51.100." + (20 + i), null));   // a new address every time

        Assert.Equal([HttpStatusCode.Unauthorized, HttpStatusCode.Unauthorized, HttpStatusCode.Unauthorized], flood.Take(3));
        Assert.All(flood.Skip(3), s => Assert.Equal(HttpStatusCode.TooManyRequests, s));   // all counted as 127.0.0.1
    }
}
