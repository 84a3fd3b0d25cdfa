using System.Text.RegularExpressions;

namespace VQToken.Api.Tests.Deployment;

/// <summary>The Dockerfile cannot be built here (no Docker engine): check what can be checked without one.</summary>
public sealed class DockerfileTests
{
    private static readonly string[] Lines = JoinContinuations(File.ReadAllLines(RepositoryRoot.File("Dockerfile")));

    private static string[] JoinContinuations(string[] lines)
    {
        var joined = new List<string>();
        var current = "";
        foreach (var raw in lines)
        {
            var line = raw.Trim();
            if (line.StartsWith('#') || line.Length == 0) continue;
            if (line.EndsWith('\\')) current += line[..^1] + " ";
            else
            {
                joined.Add(current + line);
                current = "";
            }
        }
        return joined.ToArray();
    }

    [Fact]
    public void Every_copied_source_exists_and_is_not_excluded_by_dockerignore()
    {
        var ignored = File.ReadAllLines(RepositoryRoot.File(".dockerignore"))
            .Select(l => l.Trim()).Where(l => l.Length > 0 && !l.StartsWith('#')).ToList();
        var copies = Lines.Where(l => l.StartsWith("COPY ") && !l.Contains("--from=")).ToList();
        Assert.NotEmpty(copies);
        foreach (var copy in copies)
        {
            var parts = copy.Split(' ', StringSplitOptions.RemoveEmptyEntries).Skip(1).Where(p => !p.StartsWith("--")).ToList();
            foreach (var source in parts[..^1])
            {
                var path = RepositoryRoot.File(source.TrimEnd('/'));
                Assert.True(File.Exists(path) || Directory.Exists(path), $"COPY source '{source}' does not exist");
                Assert.DoesNotContain(ignored, i => source.TrimEnd('/') == i.TrimEnd('/') || source.StartsWith(i.TrimEnd('/') + "/"));
            }
        }
    }

    [Fact]
    public void Both_torch_backends_have_a_runtime_stage_and_the_build_passes_the_switch()
    {
        var stages = Lines.Select(l => Regex.Match(l, @"^FROM\s+\S+\s+AS\s+(\S+)$", RegexOptions.IgnoreCase))
            .Where(m => m.Success).Select(m => m.Groups[1].Value).ToList();
        Assert.Contains("runtime-cpu", stages);
        Assert.Contains("runtime-cuda", stages);
        Assert.Contains(Lines, l => l.StartsWith("FROM runtime-${TORCH_BACKEND}"));
        Assert.Contains(Lines, l => l.StartsWith("RUN dotnet restore") && l.Contains("-p:TorchBackend=${TORCH_BACKEND}"));
        Assert.Contains(Lines, l => l.StartsWith("RUN dotnet publish") && l.Contains("-p:TorchBackend=${TORCH_BACKEND}"));
    }

    [Fact]
    public void Image_runs_as_a_non_root_user_with_a_healthcheck_on_healthz_and_volumes_for_model_and_data()
    {
        var user = Lines.Last(l => l.StartsWith("USER "));
        Assert.DoesNotContain("root", user);
        Assert.Contains(Lines, l => l.StartsWith("HEALTHCHECK") && l.Contains("/healthz"));
        var volume = Lines.Single(l => l.StartsWith("VOLUME "));
        Assert.Contains("/var/lib/vqtoken/models", volume);
        Assert.Contains("/var/lib/vqtoken/data", volume);
        Assert.Contains(Lines, l => l.Contains("Model__CacheDir=/var/lib/vqtoken/models"));
        Assert.Contains(Lines, l => l.StartsWith("RUN ") && l.Contains("ffmpeg"));
    }

    [Fact]
    public void Image_starts_the_service_with_idle_openmp_workers_sleeping() =>
        Assert.Contains(Lines, l => l.StartsWith("ENV ") && l.Contains($"OMP_WAIT_POLICY={VQToken.Engine.Runtime.OpenMpWaitPolicy.Chosen} "));
}
