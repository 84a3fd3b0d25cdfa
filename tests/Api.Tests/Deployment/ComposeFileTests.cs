using VQToken.Api.Ingestion;

namespace VQToken.Api.Tests.Deployment;

/// <summary>docker-compose.yml, checked by the real docker-compose (v1 from Debian validates without a Docker engine).</summary>
public sealed class ComposeFileTests
{
    private static async Task<string> ComposeConfigAsync(string profile, params string[] extra)
    {
        var tool = RequiredTool.Find("docker-compose", "apt-get install -y docker-compose");
        var (code, output) = await ToolRun.RunAsync(tool, ["-f", "docker-compose.yml", "config", .. extra],
            environment: new Dictionary<string, string> { ["COMPOSE_PROFILES"] = profile });
        Assert.True(code == 0, $"docker-compose config (profile {profile}) failed with exit code {code}:\n{output}");
        return output;
    }

    [Theory]
    [InlineData("cpu")]
    [InlineData("gpu")]
    public async Task Compose_file_is_valid(string profile) => await ComposeConfigAsync(profile, "-q");

    [Fact]
    public async Task Replicas_share_redis_the_volumes_and_the_collector_and_gpu_replicas_reserve_one_gpu_each()
    {
        var config = YamlDocs.Parse(await ComposeConfigAsync("cpu")).Single();
        var services = config.At("services")!;
        foreach (var name in new[] { "vqtoken-cpu", "vqtoken-gpu" })
        {
            var service = services.At(name)!;
            Assert.NotNull(service);
            Assert.Equal("redis", service.Text("environment", "Storage__Kind"));
            Assert.Equal("redis:6379", service.Text("environment", "Storage__Redis"));
            Assert.Equal("http://otel-collector:4317", service.Text("environment", "OTEL_EXPORTER_OTLP_ENDPOINT"));
            Assert.Equal(VQToken.Engine.Runtime.OpenMpWaitPolicy.Chosen, service.Text("environment", "OMP_WAIT_POLICY"));
            Assert.Equal(new IngestionOptions().MaxUploadBytes.ToString(), service.Text("environment", "Video__MaxUploadBytes"));
            Assert.Equal("2", service.Text("deploy", "replicas"));
            var volumes = service.Items("volumes").Select(VolumeSource).ToList();
            Assert.Contains("models", volumes);
            Assert.Contains("data", volumes);
            Assert.Contains("vqtoken", service.Items("networks", "default", "aliases").Select(a => a.ToString()));
        }
        var gpu = services.At("vqtoken-gpu", "deploy", "resources", "reservations", "devices", "0")!;
        Assert.Equal("nvidia", gpu.Text("driver"));
        Assert.Equal("1", gpu.Text("count"));
        Assert.Contains("gpu", gpu.Items("capabilities").Select(c => c.ToString()));
        Assert.Null(services.At("vqtoken-cpu", "deploy", "resources", "reservations"));
        Assert.Equal("gpu", services.Items("vqtoken-gpu", "profiles").Single().ToString());
        Assert.EndsWith("deploy/nginx/nginx.conf", VolumeSource(services.At("nginx")!.Items("volumes").Single()));
        foreach (var name in new[] { "redis", "otel-collector", "jaeger" }) Assert.NotNull(services.At(name));
    }

    /// <summary>A volume's source, from the long form (source: ...) or the short one (source:target[:mode]).</summary>
    private static string? VolumeSource(YamlDotNet.RepresentationModel.YamlNode volume) =>
        volume.Text("source") ?? volume.ToString().Split(':')[0];
}
