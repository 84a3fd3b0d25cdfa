using System.Net;
using VQToken.Api.Tests.OpenApi;

namespace VQToken.Api.Tests.Web;

/// <summary>The page's files as the service serves them (the browser test drives them for real).</summary>
public class WebPageTests(OpenApiFixture service) : IClassFixture<OpenApiFixture>
{
    [Fact]
    public async Task Root_serves_the_page_with_its_script_and_styles()
    {
        var page = await service.Client.GetAsync("/");
        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        Assert.Equal("text/html", page.Content.Headers.ContentType?.MediaType);
        var html = await page.Content.ReadAsStringAsync();
        Assert.Contains("<script src=\"app.js\"", html);
        Assert.Contains("<link rel=\"stylesheet\" href=\"style.css\">", html);
        Assert.Contains("<label for=\"file\">", html);

        var script = await service.Client.GetAsync("/app.js");
        Assert.Equal(HttpStatusCode.OK, script.StatusCode);
        Assert.Contains("javascript", script.Content.Headers.ContentType?.MediaType);
        Assert.Equal(HttpStatusCode.OK, (await service.Client.GetAsync("/style.css")).StatusCode);
    }
}
