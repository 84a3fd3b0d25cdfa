using System.Text.Json.Nodes;
using Microsoft.OpenApi;
using Swashbuckle.AspNetCore.SwaggerGen;
using VQToken.Api.Ask;
using VQToken.Api.Search;
using VQToken.Api.Videos;

using VQToken.Api.ServiceDefaults;

namespace VQToken.Api.OpenApi;

/// <summary>Adds examples (from <see cref="ApiExamples"/>) to the operations of the OpenAPI document:
/// success bodies, the Server-Sent Event streams, the PNG's binary schema, a problem example on every
/// problem response, descriptions of the common parameters, and the 401 of API-key-protected routes.</summary>
public sealed class OperationExamplesFilter : IOperationFilter
{
    public void Apply(OpenApiOperation operation, OperationFilterContext context)
    {
        DescribeParameters(operation);
        switch (operation.OperationId)
        {
            case "CreateVideo":
                Response(operation, context, 202, "application/json", typeof(VideoResponse), ApiExamples.Json(ApiExamples.QueuedVideo));
                Response(operation, context, 200, "application/json", typeof(VideoResponse), ApiExamples.Json(ApiExamples.ReadyVideo));
                break;
            case "ListVideos":
                Response(operation, context, 200, "application/json", typeof(VideoListResponse), ApiExamples.Json(ApiExamples.VideoList));
                break;
            case "GetVideo":
                Response(operation, context, 200, "application/json", typeof(VideoResponse), ApiExamples.Json(ApiExamples.ReadyVideo));
                break;
            case "VideoEvents":
                Response(operation, context, 200, "text/event-stream", typeof(string), JsonValue.Create(ApiExamples.VideoEventStream));
                break;
            case "AskVideo":
                RequestExample(operation, ApiExamples.Json(ApiExamples.AskRequest));
                Response(operation, context, 200, "application/json", typeof(AskResponse), ApiExamples.Json(ApiExamples.AskAnswer));
                Response(operation, context, 200, "text/event-stream", typeof(string), JsonValue.Create(ApiExamples.AskEventStream));
                break;
            case "SearchVideos":
                RequestExample(operation, ApiExamples.Json(ApiExamples.SearchRequest));
                Response(operation, context, 200, "application/json", typeof(SearchResponse), ApiExamples.Json(ApiExamples.SearchAnswer));
                Response(operation, context, 200, "text/event-stream", typeof(string), JsonValue.Create(ApiExamples.SearchEventStream));
                break;
            case "GetVideoClusters":
                Response(operation, context, 200, "image/png", null, null);
                break;
            // The OpenAI-compatible routes (their schemas come from their own endpoint metadata).
            case "CreateChatCompletion":
                RequestExample(operation, OpenAiExamples.ChatRequest);
                Example(operation, 200, "application/json", OpenAiExamples.ChatResponse);
                Response(operation, context, 200, "text/event-stream", typeof(string), JsonValue.Create(OpenAiExamples.ChatStream));
                break;
            case "ListModels":
                Example(operation, 200, "application/json", OpenAiExamples.ModelList);
                break;
            case "GetModel":
                Example(operation, 200, "application/json", OpenAiExamples.ModelCard);
                break;
        }
        if (context.ApiDescription.RelativePath is { } path && (path.StartsWith("videos", StringComparison.Ordinal) || path.StartsWith("v1/", StringComparison.Ordinal)))
            ProblemResponse(operation, context, 401, "Unauthorized");
        foreach (var (code, response) in operation.Responses ?? [])
        {
            if (response.Content?.TryGetValue("application/problem+json", out var media) == true && media is OpenApiMediaType { Example: null } problem
                && int.TryParse(code, out var status))
                problem.Example = ApiExamples.Problem(status);
        }
    }

    /// <summary>Sets the body of one response status + content type (schema of <paramref name="type"/>, or
    /// binary when null) and its example, keeping the other content types of that status.</summary>
    private static void Response(OpenApiOperation operation, OperationFilterContext context, int status, string contentType, Type? type, JsonNode? example)
    {
        operation.Responses ??= new OpenApiResponses();
        if (!operation.Responses.TryGetValue(status.ToString(), out var found) || found is not OpenApiResponse response)
            operation.Responses[status.ToString()] = response = new OpenApiResponse { Description = ReasonPhrase(status) };
        response.Content ??= new Dictionary<string, IOpenApiMediaType>();
        var schema = type is null
            ? new OpenApiSchema { Type = JsonSchemaType.String, Format = "binary" }
            : context.SchemaGenerator.GenerateSchema(type, context.SchemaRepository);
        if (!response.Content.TryGetValue(contentType, out var existing) || existing is not OpenApiMediaType media)
            response.Content[contentType] = media = new OpenApiMediaType();
        media.Schema ??= schema;
        if (example is not null) media.Example = example;
    }

    private static void RequestExample(OpenApiOperation operation, JsonNode example)
    {
        if (operation.RequestBody?.Content?.TryGetValue("application/json", out var media) == true && media is OpenApiMediaType body) body.Example = example;
    }

    /// <summary>Sets the example of a body the endpoint already documents (its schema is left as it is).</summary>
    private static void Example(OpenApiOperation operation, int status, string contentType, JsonNode example)
    {
        if (operation.Responses?.TryGetValue(status.ToString(), out var response) == true
            && response.Content?.TryGetValue(contentType, out var media) == true && media is OpenApiMediaType body)
            body.Example = example;
    }

    private static void ProblemResponse(OpenApiOperation operation, OperationFilterContext context, int status, string description)
    {
        operation.Responses ??= new OpenApiResponses();
        if (operation.Responses.ContainsKey(status.ToString())) return;
        operation.Responses[status.ToString()] = new OpenApiResponse
        {
            Description = description,
            Content = new Dictionary<string, IOpenApiMediaType>
            {
                ["application/problem+json"] = new OpenApiMediaType { Schema = context.SchemaGenerator.GenerateSchema(typeof(Microsoft.AspNetCore.Mvc.ProblemDetails), context.SchemaRepository) },
            },
        };
    }

    private static void DescribeParameters(OpenApiOperation operation)
    {
        foreach (var parameter in (operation.Parameters ?? []).OfType<OpenApiParameter>())
        {
            parameter.Description ??= parameter.Name switch
            {
                "id" => "The video id returned by POST /videos (26 characters).",
                "status" => "Only videos with this status: queued, processing, ready or failed.",
                "limit" => "Videos per page, 1-500 (default 50).",
                "after" => "The `next` cursor of the previous page.",
                _ => null,
            };
            parameter.Example ??= parameter.Name switch
            {
                "id" => JsonValue.Create("01jz8k3q4m5n6p7r8s9t0v1w2x"),
                "status" => JsonValue.Create("ready"),
                "limit" => JsonValue.Create(50),
                _ => null,
            };
        }
    }

    private static string ReasonPhrase(int status) => Microsoft.AspNetCore.WebUtilities.ReasonPhrases.GetReasonPhrase(status);
}
