using VQToken.Api;
using VQToken.Api.Ask;
using VQToken.Api.OpenAi;
using VQToken.Api.OpenApi;
using VQToken.Api.Search;
using VQToken.Api.ServiceDefaults;
using VQToken.Api.Videos;
using VQToken.Api.Videos.Clusters;
using VQToken.Engine.Runtime;

ProcessStart.Prepare();     // first: OpenMP wait policy, glibc arenas
var builder = WebApplication.CreateBuilder(args);
builder.AddServiceDefaults();
builder.AddApplicationServices();
builder.AddOpenApiDocs();

var app = builder.Build();
app.UseServiceDefaults();
app.UseOpenApiDocs();
app.UseDefaultFiles();
app.UseStaticFiles();
app.MapVideosApi();
app.MapAskApi();
app.MapEvidenceApi();
app.MapSearchApi();
app.MapClustersApi();
app.MapOpenAiApi();
app.Run();
