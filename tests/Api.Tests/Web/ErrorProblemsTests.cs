using Microsoft.AspNetCore.Http;
using StackExchange.Redis;
using VQToken.Api.ServiceDefaults;
using VQToken.Engine.Runtime;
using VQToken.Ingestion;

namespace VQToken.Api.Tests.Web;

public class ErrorProblemsTests
{
    private static readonly ErrorProblems Mapping = new([new ApiErrors()]);

    [Fact]
    public void Overload_is_a_429_with_Retry_After_rounded_up_to_whole_seconds()
    {
        var response = new DefaultHttpContext().Response;

        var problem = Mapping.MapFor(response, new EngineOverloadedException(12, TimeSpan.FromMilliseconds(1500)));

        Assert.Equal((429, Problems.Overloaded), (problem!.Status, problem.Type));
        Assert.Equal("2", response.Headers.RetryAfter.ToString());
    }

    [Fact]
    public void A_store_timeout_is_the_stores_503_not_the_answers_504()
    {
        var redisTimeout = new RedisTimeoutException("Timeout awaiting response", CommandStatus.Sent);

        Assert.Equal((503, Problems.StoreUnavailable), (Mapping.Map(redisTimeout)!.Problem.Status, Mapping.Map(redisTimeout)!.Problem.Type));
        Assert.Equal(504, Mapping.Map(new TimeoutException("deadline"))!.Problem.Status);
    }

    [Fact]
    public void Request_errors_keep_the_servers_status_and_unknown_errors_stay_unmapped()
    {
        Assert.Equal(413, Mapping.Map(new BadHttpRequestException("too large", 413))!.Problem.Status);
        Assert.Equal(415, Mapping.Map(new VideoIngestException(VideoErrorKind.NotAVideo, "not a video"))!.Problem.Status);
        Assert.Null(Mapping.Map(new InvalidOperationException("a bug")));
        Assert.Null(Mapping.MapFor(new DefaultHttpContext().Response, new InvalidOperationException("a bug")));
    }
}
