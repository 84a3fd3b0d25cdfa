using Microsoft.OpenApi;

using VQToken.Api.ServiceDefaults;

namespace VQToken.Api.OpenApi;

/// <summary>OpenAPI document (Swashbuckle) at /swagger/v1/swagger.json and Swagger UI at /swagger.</summary>
public static class OpenApiDocs
{
    public static WebApplicationBuilder AddOpenApiDocs(this WebApplicationBuilder builder)
    {
        builder.Services.AddEndpointsApiExplorer();
        builder.Services.AddSwaggerGen(o =>
        {
            o.SwaggerDoc("v1", new OpenApiInfo
            {
                Title = "VQToken Service",
                Version = "v1",
                Description = "Video question answering with LLaVA-OneVision + VQToken: upload a video once, ask many questions " +
                    "answered from ~33 cached tokens. Errors are RFC 7807 problem details with a stable `type`.",
            });
            o.OperationFilter<UploadOrUrlBodyFilter>();
            o.OperationFilter<OperationExamplesFilter>();
            // "Authorize" in Swagger UI: the key goes in X-Api-Key (only needed when Auth:ApiKeys is set).
            o.AddSecurityDefinition("ApiKey", new OpenApiSecurityScheme
            {
                Type = SecuritySchemeType.ApiKey, In = ParameterLocation.Header, Name = "X-Api-Key",
                Description = "API key (when the service has Auth:ApiKeys configured); each key sees only its own videos.",
            });
            o.AddSecurityRequirement(document => new OpenApiSecurityRequirement { [new OpenApiSecuritySchemeReference("ApiKey", document)] = [] });
            var xml = Path.Combine(AppContext.BaseDirectory, "VQToken.Api.xml");
            if (File.Exists(xml)) o.IncludeXmlComments(xml);
        });
        return builder;
    }

    public static WebApplication UseOpenApiDocs(this WebApplication app)
    {
        app.UseSwagger();
        app.UseSwaggerUI(o => o.SwaggerEndpoint("/swagger/v1/swagger.json", "VQToken Service v1"));
        return app;
    }
}
