using System.ComponentModel.DataAnnotations;
using System.Net;
using System.Threading.RateLimiting;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.AspNetCore.HttpOverrides;
using Microsoft.AspNetCore.RateLimiting;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.Options;
using OpenTelemetry.Logs;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;
using VQToken.Engine.Runtime;
using IPNetwork = System.Net.IPNetwork;

namespace VQToken.Api.ServiceDefaults;

/// <summary>Rate limits per caller: the API key owner, or the client address when keys are off or the key
/// is missing or wrong.</summary>
public sealed class RateLimitOptions
{
    public const string Section = "RateLimit";
    /// <summary>Sustained requests per second per caller; 0 disables rate limiting.</summary>
    [Range(0, 1_000_000)] public double PermitsPerSecond { get; set; } = 20;
    /// <summary>Burst allowance per caller.</summary>
    [Range(1, 1_000_000)] public int Burst { get; set; } = 100;
}

/// <summary>Cross-cutting service wiring (telemetry, health, problem details, auth, rate limits,
/// CORS) in one place: features never wire these by hand.</summary>
public static class ServiceDefaultsExtensions
{
    public const string ApiActivitySource = "VQToken.Api";
    public const string CorsPolicy = "configured-origins";

    public static WebApplicationBuilder AddServiceDefaults(this WebApplicationBuilder builder)
    {
        var services = builder.Services;
        services.AddProblemDetails(o => o.CustomizeProblemDetails = c =>
        {
            // Problems the framework raises itself (routing 404/405/415, bad request bodies) get the
            // service's stable types too.
            if (c.ProblemDetails.Type is null || c.ProblemDetails.Type.StartsWith("https://tools.ietf.org/", StringComparison.Ordinal))
                c.ProblemDetails.Type = c.ProblemDetails.Status switch
                {
                    StatusCodes.Status404NotFound or StatusCodes.Status405MethodNotAllowed => Problems.NotFound,
                    StatusCodes.Status400BadRequest => Problems.Validation,
                    StatusCodes.Status413PayloadTooLarge => Problems.TooLarge,
                    StatusCodes.Status415UnsupportedMediaType => Problems.UnsupportedMedia,
                    StatusCodes.Status429TooManyRequests => Problems.RateLimited,
                    StatusCodes.Status503ServiceUnavailable => Problems.NotReady,
                    _ => Problems.Internal,
                };
            c.ProblemDetails.Extensions["traceId"] = c.HttpContext.TraceIdentifier;
        });
        services.AddSingleton<IProblemDetailsWriter, ProblemJsonWriter>();   // after the framework's: used when it declines
        services.AddSingleton<ErrorProblems>();
        services.AddExceptionHandler<ProblemExceptionHandler>();

        services.AddOptions<HttpServerOptions>().BindConfiguration(HttpServerOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        services.AddOptions<KestrelServerOptions>().Configure<IOptions<HttpServerOptions>>((kestrel, http) =>
            kestrel.Limits.MinRequestBodyDataRate = http.Value.MinRequestBodyBytesPerSecond > 0
                ? new MinDataRate(http.Value.MinRequestBodyBytesPerSecond, TimeSpan.FromSeconds(http.Value.RequestBodyGracePeriodSeconds))
                : null);
        services.AddOptions<ForwardedHeadersOptions>().Configure<IOptions<HttpServerOptions>>((forwarded, http) => TrustProxies(forwarded, http.Value));

        AddTelemetry(builder);

        services.AddOptions<AuthOptions>().BindConfiguration(AuthOptions.Section).ValidateOnStart();
        services.AddSingleton<ApiKeyCheck>();
        services.AddOptions<RateLimitOptions>().BindConfiguration(RateLimitOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        var rate = builder.Configuration.GetSection(RateLimitOptions.Section).Get<RateLimitOptions>() ?? new RateLimitOptions();
        services.AddRateLimiter(o =>
        {
            o.OnRejected = async (context, token) =>
            {
                var retry = context.Lease.TryGetMetadata(MetadataName.RetryAfter, out var after) ? after : TimeSpan.FromSeconds(1);
                context.HttpContext.Response.Headers.RetryAfter = Math.Max(1, (int)Math.Ceiling(retry.TotalSeconds)).ToString();
                await Problems.WriteAsync(context.HttpContext, Problems.Create(StatusCodes.Status429TooManyRequests, Problems.RateLimited,
                    "Too many requests", "this API key (or client) exceeded its request rate"));
            };
            if (rate.PermitsPerSecond > 0)
            {
                o.GlobalLimiter = PartitionedRateLimiter.Create<HttpContext, string>(context =>
                    !(context.Request.Path.StartsWithSegments("/videos") || context.Request.Path.StartsWithSegments("/v1"))
                        ? RateLimitPartition.GetNoLimiter("unlimited")
                        : RateLimitPartition.GetTokenBucketLimiter(PartitionKey(context), _ => new TokenBucketRateLimiterOptions
                        {
                            TokenLimit = rate.Burst,
                            TokensPerPeriod = Math.Max(1, (int)Math.Ceiling(rate.PermitsPerSecond)),
                            ReplenishmentPeriod = TimeSpan.FromSeconds(Math.Max(1, Math.Ceiling(rate.PermitsPerSecond)) / rate.PermitsPerSecond),
                            QueueLimit = 0,
                        }));
            }
        });

        var origins = builder.Configuration.GetSection("Cors:AllowedOrigins").Get<string[]>() ?? [];
        services.AddCors(o => o.AddPolicy(CorsPolicy, p =>
        {
            if (origins.Length > 0) p.WithOrigins(origins).AllowAnyHeader().AllowAnyMethod();
        }));
        services.AddHealthChecks();
        return builder;
    }

    /// <summary>The limiter runs before the key check: a valid key is its owner's bucket; no key, a wrong key
    /// or an open service share the client address's bucket (the address forwarded by a trusted proxy).</summary>
    private static string PartitionKey(HttpContext context) =>
        context.RequestServices.GetRequiredService<ApiKeyCheck>().Authenticate(context) is { } owner && owner != Caller.Anonymous
            ? owner
            : context.Connection.RemoteIpAddress?.ToString() ?? "unknown";

    /// <summary>X-Forwarded-For/-Proto are believed from the configured proxies only (loopback when none are
    /// configured), one hop: the address the nearest trusted proxy saw.</summary>
    private static void TrustProxies(ForwardedHeadersOptions forwarded, HttpServerOptions http)
    {
        forwarded.ForwardedHeaders = ForwardedHeaders.XForwardedFor | ForwardedHeaders.XForwardedProto;
        forwarded.KnownProxies.Clear();
        forwarded.KnownIPNetworks.Clear();
        if (http.KnownProxies.Count == 0 && http.KnownNetworks.Count == 0)
        {
            forwarded.KnownIPNetworks.Add(new IPNetwork(IPAddress.Loopback, 8));
            forwarded.KnownProxies.Add(IPAddress.IPv6Loopback);
        }
        foreach (var proxy in http.KnownProxies) forwarded.KnownProxies.Add(IPAddress.Parse(proxy));
        foreach (var network in http.KnownNetworks) forwarded.KnownIPNetworks.Add(IPNetwork.Parse(network));
    }

    private static void AddTelemetry(WebApplicationBuilder builder)
    {
        bool otlp = !string.IsNullOrWhiteSpace(builder.Configuration["OTEL_EXPORTER_OTLP_ENDPOINT"]);
        builder.Logging.AddOpenTelemetry(o =>
        {
            o.IncludeFormattedMessage = true;
            o.IncludeScopes = true;
            if (otlp) o.AddOtlpExporter();
        });
        var telemetry = builder.Services.AddOpenTelemetry()
            .ConfigureResource(r => r.AddService(builder.Configuration["OTEL_SERVICE_NAME"] ?? "vqtoken-service"))
            .WithTracing(t =>
            {
                t.AddAspNetCoreInstrumentation(o => o.Filter = c => !IsProbe(c.Request.Path))
                 .AddHttpClientInstrumentation()
                 .AddSource(EngineMetrics.Name, ApiActivitySource);
                if (otlp) t.AddOtlpExporter();
            })
            .WithMetrics(m =>
            {
                m.AddAspNetCoreInstrumentation()
                 .AddHttpClientInstrumentation()
                 .AddRuntimeInstrumentation()
                 .AddMeter(EngineMetrics.Name)
                 .AddPrometheusExporter();
                if (otlp) m.AddOtlpExporter();
            });
    }

    private static bool IsProbe(PathString path) =>
        path.StartsWithSegments("/healthz") || path.StartsWithSegments("/readyz") || path.StartsWithSegments("/metrics");

    /// <summary>Middleware and endpoints of the defaults: errors, auth, rate limits, health, metrics.</summary>
    public static WebApplication UseServiceDefaults(this WebApplication app)
    {
        // Which replica answered (behind a load balancer): host name and process id.
        var replica = $"{Environment.MachineName}-{Environment.ProcessId}";
        app.Use((context, next) =>
        {
            context.Response.Headers["X-VQToken-Replica"] = replica;
            return next(context);
        });
        app.UseForwardedHeaders();
        app.UseExceptionHandler();
        app.UseStatusCodePages();
        app.UseCors(CorsPolicy);
        app.UseRateLimiter();
        app.UseMiddleware<ApiKeyMiddleware>();
        app.MapHealthChecks("/healthz", new HealthCheckOptions { Predicate = _ => false });   // liveness: the process answers
        app.MapHealthChecks("/readyz", new HealthCheckOptions
        {
            Predicate = c => c.Tags.Contains("ready"),
            ResponseWriter = HealthResponse.WriteAsync,
        });
        app.MapPrometheusScrapingEndpoint("/metrics");
        return app;
    }
}
