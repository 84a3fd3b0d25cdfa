using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using VQToken.Api.Tests.Infrastructure;

namespace VQToken.Api.Tests.OpenApi;

public sealed class OpenApiFixture : IDisposable
{
    public ServiceFactory Factory { get; } = new();
    public HttpClient Client { get; }
    public OpenApiFixture() => Client = Factory.CreateClient();
    public void Dispose() => Factory.Dispose();
}

/// <summary>The OpenAPI document, checked by an independent validator (@apidevtools/swagger-parser, run by
/// node) and against the endpoints the app really maps.</summary>
public partial class OpenApiDocumentTests(OpenApiFixture service) : IClassFixture<OpenApiFixture>
{
    private const string Hint = "The OpenAPI validation test needs Node.js (18+) and npm on PATH (Debian: apt-get install -y nodejs npm).";

    [Fact]
    public async Task Document_validates_and_lists_every_mapped_endpoint_with_a_summary_and_an_example()
    {
        var document = await service.Client.GetStringAsync("/swagger/v1/swagger.json");
        var validator = NodePackage.Install(Path.Combine("tests", "Api.Tests", "OpenApi", "validator"), "openapi-validator", Hint);
        string file = Path.Combine(Path.GetTempPath(), $"vqtoken-openapi-{Guid.NewGuid():N}.json");
        JsonObject report;
        try
        {
            File.WriteAllText(file, document);
            var output = validator.Run("validate.mjs", [file], TimeSpan.FromMinutes(2));
            report = (JsonObject)JsonNode.Parse(output.Split('\n', StringSplitOptions.RemoveEmptyEntries).Last(l => l.StartsWith('{')))!;
        }
        finally
        {
            File.Delete(file);
        }
        Assert.True((bool?)report["valid"] == true, "the validator rejected the document: " + report.ToJsonString());

        var listed = report["operations"]!.AsArray().ToDictionary(o => $"{(string)o!["method"]!} {(string)o!["path"]!}", o => o!.AsObject());
        var mapped = MappedOperations();
        Assert.Superset(new HashSet<string>
        {
            "POST /videos", "GET /videos", "GET /videos/{id}", "DELETE /videos/{id}", "GET /videos/{id}/events",
            "POST /videos/{id}/ask", "GET /videos/{id}/clusters.png",
        }, mapped);
        foreach (var operation in mapped)
        {
            Assert.True(listed.TryGetValue(operation, out var entry), $"{operation} is mapped but not in the OpenAPI document; listed: {string.Join(", ", listed.Keys)}");
            Assert.False(string.IsNullOrWhiteSpace((string?)entry["summary"]), $"{operation} has no summary");
            Assert.True((int)entry["requestExamples"]! + (int)entry["responseExamples"]! > 0, $"{operation} has no request or response example");
        }
    }

    [Fact]
    public async Task Upload_is_documented_as_multipart_with_a_binary_file_and_as_json_with_a_url()
    {
        var document = JsonNode.Parse(await service.Client.GetStringAsync("/swagger/v1/swagger.json"))!;
        var content = document["paths"]!["/videos"]!["post"]!["requestBody"]!["content"]!;
        var form = Resolve(document, content["multipart/form-data"]!["schema"]!);
        Assert.Equal("string", (string?)form["properties"]!["file"]!["type"]);
        Assert.Equal("binary", (string?)form["properties"]!["file"]!["format"]);
        Assert.NotNull(form["properties"]!["frames"]);
        var json = content["application/json"]!;
        Assert.NotNull(Resolve(document, json["schema"]!)["properties"]!["url"]);
        foreach (var sampling in new[] { "fps", "maxFrames", "start", "end" })
        {
            Assert.NotNull(form["properties"]![sampling]);
            Assert.NotNull(Resolve(document, json["schema"]!)["properties"]![sampling]);
        }
        Assert.StartsWith("https://", (string?)json["example"]!["url"]);
    }

    [Fact]
    public async Task Clusters_picture_is_documented_as_a_png()
    {
        var document = JsonNode.Parse(await service.Client.GetStringAsync("/swagger/v1/swagger.json"))!;
        var ok = document["paths"]!["/videos/{id}/clusters.png"]!["get"]!["responses"]!["200"]!["content"]!["image/png"]!;
        Assert.Equal("binary", (string?)ok["schema"]!["format"]);
    }

    [Fact]
    public async Task Swagger_ui_is_served_at_swagger()
    {
        var response = await service.Client.GetAsync("/swagger");
        Assert.True(response.IsSuccessStatusCode, $"GET /swagger gave {(int)response.StatusCode}");
        var html = await response.Content.ReadAsStringAsync();
        Assert.Contains("swagger-ui", html);
    }

    /// <summary>"METHOD /path" of every API endpoint the app maps (not health, metrics or the docs).</summary>
    private HashSet<string> MappedOperations()
    {
        var endpoints = service.Factory.Services.GetRequiredService<EndpointDataSource>().Endpoints.OfType<RouteEndpoint>();
        var operations = new HashSet<string>();
        foreach (var endpoint in endpoints)
        {
            string path = "/" + Constraint().Replace(endpoint.RoutePattern.RawText ?? "", "}").Trim('/');
            if (path is "/healthz" or "/readyz" or "/metrics" || path.StartsWith("/swagger", StringComparison.Ordinal)) continue;
            foreach (var method in endpoint.Metadata.GetMetadata<HttpMethodMetadata>()?.HttpMethods ?? [])
                operations.Add($"{method} {path}");
        }
        return operations;
    }

    private static JsonNode Resolve(JsonNode document, JsonNode schema) =>
        (string?)schema["$ref"] is { } reference ? document["components"]!["schemas"]![reference.Split('/')[^1]]! : schema;

    /// <summary>A route parameter's constraints/optional mark, e.g. <c>:int?}</c> in <c>{id:int?}</c>.</summary>
    [GeneratedRegex(@"(:[^}]*)?\??\}")]
    private static partial Regex Constraint();
}
