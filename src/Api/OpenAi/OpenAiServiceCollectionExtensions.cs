namespace VQToken.Api.OpenAi;

public static class OpenAiServiceCollectionExtensions
{
    /// <summary>Every problem answered under <c>/v1</c> — from the endpoints and from the middleware before them
    /// (401 API key, 429 rate limit, 500) — also carries OpenAI's <c>error</c> object, so OpenAI clients show its
    /// message. Wraps the service's own problem customisation rather than replacing it.</summary>
    public static IServiceCollection AddOpenAiApi(this IServiceCollection services)
    {
        services.PostConfigure<ProblemDetailsOptions>(options =>
        {
            var customize = options.CustomizeProblemDetails;
            options.CustomizeProblemDetails = context =>
            {
                customize?.Invoke(context);
                if (context.HttpContext.Request.Path.StartsWithSegments(OpenAiApi.Prefix)) OpenAiError.Attach(context.ProblemDetails);
            };
        });
        return services;
    }
}
