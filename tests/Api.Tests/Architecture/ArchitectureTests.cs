using System.Reflection;
using System.Text.RegularExpressions;
using VQToken.Api.Tests.Deployment;

namespace VQToken.Api.Tests.Architecture;

/// <summary>The rooms' references: the engine knows no web host, neither the web host nor ingestion touches
/// TorchSharp, and the service defaults know no feature.</summary>
public class ArchitectureTests
{
    private static readonly Assembly Api = typeof(Program).Assembly;
    private static readonly Assembly Engine = typeof(VQToken.Engine.Compression.CompressionSettings).Assembly;
    private static readonly Assembly Ingestion = typeof(VQToken.Ingestion.FrameSampler).Assembly;

    [Fact]
    public void Engine_does_not_reference_ASP_NET_Core()
    {
        var references = Engine.GetReferencedAssemblies().Select(a => a.Name!).ToList();

        Assert.Contains("TorchSharp", references);   // the check reads real references
        Assert.DoesNotContain(references, name => name.StartsWith("Microsoft.AspNetCore", StringComparison.Ordinal));
    }

    [Fact]
    public void Ingestion_references_neither_TorchSharp_nor_the_engine_nor_ASP_NET_Core()
    {
        var references = Ingestion.GetReferencedAssemblies().Select(a => a.Name!).ToList();

        Assert.Contains("FFMpegCore", references);   // the check reads real references
        Assert.DoesNotContain(references, name => name.StartsWith("TorchSharp", StringComparison.Ordinal)
            || name == "VQToken.Engine" || name.StartsWith("Microsoft.AspNetCore", StringComparison.Ordinal));
        Assert.DoesNotContain(Ingestion.GetTypes().SelectMany(Signature), t => t.Namespace?.StartsWith("TorchSharp", StringComparison.Ordinal) == true);
    }

    [Fact]
    public void Api_does_not_use_TorchSharp_types_itself()
    {
        var references = Api.GetReferencedAssemblies().Select(a => a.Name!).ToList();

        Assert.Contains("VQToken.Engine", references);
        Assert.DoesNotContain("TorchSharp", references);
        var signatures = Api.GetTypes().SelectMany(Signature).Where(t => t.Namespace?.StartsWith("TorchSharp", StringComparison.Ordinal) == true);
        Assert.Empty(signatures.Select(t => t.FullName).Distinct());
    }

    [Fact]
    public void Service_defaults_name_no_feature()
    {
        var features = new Regex(@"\bVQToken\.Api\.(Videos|Ask|OpenAi|OpenApi|Storage|Inference|Ingestion)\b|\b(Storage|Videos|Ask|OpenAi|Inference)\.[A-Z]");
        var folder = RepositoryRoot.File("src", "Api", "ServiceDefaults");
        var offending = Directory.GetFiles(folder, "*.cs")
            .SelectMany(f => File.ReadAllLines(f).Select((line, i) => (File: Path.GetFileName(f), Line: i + 1, Text: line)))
            .Where(l => features.IsMatch(l.Text)).Select(l => $"{l.File}:{l.Line}: {l.Text.Trim()}").ToList();

        Assert.NotEmpty(Directory.GetFiles(folder, "*.cs"));
        Assert.Empty(offending);
        var types = Api.GetTypes().Where(t => t.Namespace == "VQToken.Api.ServiceDefaults").SelectMany(Signature)
            .Where(t => t.Namespace is { } ns && ns.StartsWith("VQToken.Api.", StringComparison.Ordinal) && ns != "VQToken.Api.ServiceDefaults");
        Assert.Empty(types.Select(t => t.FullName).Distinct());
    }

    /// <summary>Every type a type's declared members mention: base, interfaces, fields, properties, method and constructor signatures.</summary>
    private static IEnumerable<Type> Signature(Type type)
    {
        const BindingFlags all = BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Instance | BindingFlags.Static | BindingFlags.DeclaredOnly;
        var mentioned = new List<Type>();
        if (type.BaseType is { } b) mentioned.Add(b);
        mentioned.AddRange(type.GetInterfaces());
        mentioned.AddRange(type.GetFields(all).Select(f => f.FieldType));
        mentioned.AddRange(type.GetProperties(all).Select(p => p.PropertyType));
        foreach (var method in type.GetMethods(all).Cast<MethodBase>().Concat(type.GetConstructors(all)))
        {
            mentioned.AddRange(method.GetParameters().Select(p => p.ParameterType));
            if (method is MethodInfo m) mentioned.Add(m.ReturnType);
        }
        return mentioned.SelectMany(Unwrap);
    }

    private static IEnumerable<Type> Unwrap(Type type)
    {
        if (type.HasElementType) return Unwrap(type.GetElementType()!);
        if (type.IsGenericType) return type.GetGenericArguments().SelectMany(Unwrap).Append(type.GetGenericTypeDefinition());
        return [type];
    }
}
