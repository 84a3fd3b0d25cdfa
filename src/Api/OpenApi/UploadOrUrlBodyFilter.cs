using Microsoft.OpenApi;
using Swashbuckle.AspNetCore.SwaggerGen;
using VQToken.Api.Videos;

using VQToken.Api.ServiceDefaults;

namespace VQToken.Api.OpenApi;

/// <summary>POST /videos takes a multipart upload or a JSON URL body: give the JSON content type the
/// <see cref="VideoUrlRequest"/> schema (with an example) instead of the form's.</summary>
public sealed class UploadOrUrlBodyFilter : IOperationFilter
{
    public void Apply(OpenApiOperation operation, OperationFilterContext context)
    {
        if (operation.OperationId != "CreateVideo" || operation.RequestBody?.Content is not { } content) return;
        var schema = context.SchemaGenerator.GenerateSchema(typeof(VideoUrlRequest), context.SchemaRepository);
        content["application/json"] = new OpenApiMediaType
        {
            Schema = schema,
            Example = System.Text.Json.Nodes.JsonNode.Parse("""{"url": "https://example.com/video.mp4", "frames": 32, "compression": "vqtoken-fixed", "k": 32}"""),
        };
    }
}
