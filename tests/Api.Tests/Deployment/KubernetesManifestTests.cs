using YamlDotNet.RepresentationModel;

namespace VQToken.Api.Tests.Deployment;

/// <summary>deploy/k8s: valid YAML objects, wired to each other (names of ConfigMap, Secret, claims, HPA target)
/// and probing the service's health endpoints.</summary>
public sealed class KubernetesManifestTests
{
    private static readonly string Folder = RepositoryRoot.File("deploy", "k8s");

    private static IReadOnlyList<(string File, YamlMappingNode Doc)> Objects() => Directory.GetFiles(Folder, "*.yaml")
        .Where(f => Path.GetFileName(f) != "kustomization.yaml")
        .SelectMany(f => YamlDocs.Parse(File.ReadAllText(f)).Select(d => (Path.GetFileName(f), d)))
        .ToList();

    private static YamlMappingNode Object(string kind, string name) =>
        Objects().Single(o => o.Doc.Text("kind") == kind && o.Doc.Text("metadata", "name") == name).Doc;

    [Fact]
    public void Every_manifest_is_a_named_object_and_kustomization_lists_every_file()
    {
        var objects = Objects();
        Assert.NotEmpty(objects);
        Assert.All(objects, o =>
        {
            Assert.False(string.IsNullOrEmpty(o.Doc.Text("apiVersion")), $"{o.File}: no apiVersion");
            Assert.False(string.IsNullOrEmpty(o.Doc.Text("kind")), $"{o.File}: no kind");
            Assert.False(string.IsNullOrEmpty(o.Doc.Text("metadata", "name")), $"{o.File}: no metadata.name");
        });
        var kustomization = YamlDocs.Parse(File.ReadAllText(Path.Combine(Folder, "kustomization.yaml"))).Single();
        var listed = kustomization.Items("resources").Select(r => r.ToString()).Order().ToList();
        Assert.Equal(objects.Select(o => o.File).Distinct().Order().ToList(), listed);
    }

    [Fact]
    public void Deployment_probes_health_and_readiness_asks_for_a_gpu_and_uses_the_config_secret_and_shared_claims()
    {
        var deployment = Object("Deployment", "vqtoken");
        var pod = deployment.At("spec", "template", "spec")!;
        var container = pod.At("containers", "0")!;
        Assert.Equal("/readyz", container.Text("readinessProbe", "httpGet", "path"));
        Assert.Equal("/healthz", container.Text("livenessProbe", "httpGet", "path"));
        Assert.Equal("1", container.Text("resources", "limits", "nvidia.com/gpu"));
        Assert.Equal("true", pod.Text("securityContext", "runAsNonRoot"));

        var configMap = container.Items("envFrom").Select(e => e.Text("configMapRef", "name")).Single(n => n is not null)!;
        var secret = container.Items("envFrom").Select(e => e.Text("secretRef", "name")).Single(n => n is not null)!;
        Assert.Equal("redis", Object("ConfigMap", configMap).Text("data", "Storage__Kind"));
        Assert.Equal(VQToken.Engine.Runtime.OpenMpWaitPolicy.Chosen, Object("ConfigMap", configMap).Text("data", "OMP_WAIT_POLICY"));
        Assert.NotNull(Object("Secret", secret).At("stringData", "HF_TOKEN"));

        var mounts = container.Items("volumeMounts").ToDictionary(m => m.Text("name")!, m => m.Text("mountPath")!);
        foreach (var volume in pod.Items("volumes").Where(v => v.At("persistentVolumeClaim") is not null))
        {
            var claim = Object("PersistentVolumeClaim", volume.Text("persistentVolumeClaim", "claimName")!);
            Assert.Contains("ReadWriteMany", claim.Items("spec", "accessModes").Select(m => m.ToString()));
            Assert.True(mounts.ContainsKey(volume.Text("name")!));
        }
        Assert.Equal("/var/lib/vqtoken/models", mounts["models"]);
        Assert.Equal("/var/lib/vqtoken/data", mounts["data"]);
    }

    [Fact]
    public void Service_redis_and_autoscaler_point_at_what_exists()
    {
        var labels = Object("Deployment", "vqtoken").At("spec", "template", "metadata", "labels")!;
        var service = Object("Service", "vqtoken");
        Assert.Equal(labels.Text("app.kubernetes.io/name"), service.Text("spec", "selector", "app.kubernetes.io/name"));
        var redisHost = Object("ConfigMap", "vqtoken-config").Text("data", "Storage__Redis")!.Split(':')[0];
        Assert.Equal("6379", Object("Service", redisHost).Text("spec", "ports", "0", "port"));
        var hpa = Object("HorizontalPodAutoscaler", "vqtoken");
        Assert.Equal("Deployment", hpa.Text("spec", "scaleTargetRef", "kind"));
        Assert.Equal("vqtoken", hpa.Text("spec", "scaleTargetRef", "name"));
    }

    [Fact]
    public void Video_routes_are_hashed_on_the_video_id_through_their_own_service_and_the_rest_is_not()
    {
        var hashed = Object("Ingress", "vqtoken-by-video");
        var hashBy = hashed.Text("metadata", "annotations", "nginx.ingress.kubernetes.io/upstream-hash-by")!;
        Assert.Equal("true", hashed.Text("metadata", "annotations", "nginx.ingress.kubernetes.io/use-regex"));
        var path = hashed.At("spec", "rules", "0", "http", "paths", "0")!;
        // The hash variable is the path regex's named capture, and the regex captures the id of every video route.
        var regex = new System.Text.RegularExpressions.Regex("^" + path.Text("path")!);
        Assert.StartsWith("$", hashBy);
        Assert.Contains(hashBy[1..], regex.GetGroupNames());
        foreach (var route in new[] { "/videos/01jz8k3q4m5n6p7r8s9t0v1w2x", "/videos/01jz8k3q4m5n6p7r8s9t0v1w2x/ask", "/videos/01jz8k3q4m5n6p7r8s9t0v1w2x/clusters.png" })
            Assert.Equal("01jz8k3q4m5n6p7r8s9t0v1w2x", regex.Match(route).Groups[hashBy[1..]].Value);
        Assert.DoesNotMatch(regex, "/videos");
        var backend = Object("Service", path.Text("backend", "service", "name")!);
        Assert.NotEqual("vqtoken", backend.Text("metadata", "name"));
        Assert.Equal(Object("Service", "vqtoken").Text("spec", "selector", "app.kubernetes.io/name"), backend.Text("spec", "selector", "app.kubernetes.io/name"));
        Assert.Null(Object("Ingress", "vqtoken").Text("metadata", "annotations", "nginx.ingress.kubernetes.io/upstream-hash-by"));
    }
}
