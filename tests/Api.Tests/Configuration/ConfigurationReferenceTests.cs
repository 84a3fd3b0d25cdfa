using System.Collections;
using System.Reflection;
using System.Text.RegularExpressions;
using VQToken.Api.Tests.Deployment;

namespace VQToken.Api.Tests.Configuration;

/// <summary>Every setting the code binds (options classes with a <c>Section</c> constant, in the
/// service and engine assemblies) appears in the README's configuration reference, and the table
/// names no setting that does not exist.</summary>
public partial class ConfigurationReferenceTests
{
    /// <summary>Settings read without an options class.</summary>
    private static readonly string[] ReadDirectly = ["Cors:AllowedOrigins"];

    private static IEnumerable<(string Key, string Default)> SettingsInCode()
    {
        var assemblies = new[] { typeof(Program).Assembly, typeof(VQToken.Engine.Runtime.InferenceEngine).Assembly, typeof(VQToken.Ingestion.VideoOptions).Assembly };
        foreach (var type in assemblies.SelectMany(a => a.GetTypes()))
        {
            if (type.GetField("Section", BindingFlags.Public | BindingFlags.Static) is not { IsLiteral: true } field) continue;
            if (type.GetConstructor(Type.EmptyTypes) is null) continue;
            var section = (string)field.GetValue(null)!;
            var instance = Activator.CreateInstance(type);
            foreach (var property in type.GetProperties(BindingFlags.Public | BindingFlags.Instance).Where(p => p.CanWrite && p.GetSetMethod() is not null))
            {
                var value = property.GetValue(instance);
                var text = value switch
                {
                    null => "",
                    string s => s,
                    IEnumerable e => "[" + string.Join(", ", e.Cast<object>()) + "]",
                    _ => Convert.ToString(value, System.Globalization.CultureInfo.InvariantCulture) ?? "",
                };
                yield return ($"{section}:{property.Name}", text);
            }
        }
    }

    [GeneratedRegex(@"^\|\s*`([A-Za-z][A-Za-z0-9]*(?::[A-Za-z0-9]+)+)`\s*\|", RegexOptions.Multiline)]
    private static partial Regex TableKey();

    [Fact]
    public void Readme_configuration_table_lists_every_setting_in_code()
    {
        var readme = File.ReadAllText(RepositoryRoot.File("README.md"));
        var start = readme.IndexOf("## Configuration reference", StringComparison.Ordinal);
        Assert.True(start >= 0, "README.md has no '## Configuration reference' section");
        var end = readme.IndexOf("\n## ", start + 5, StringComparison.Ordinal);
        var table = end < 0 ? readme[start..] : readme[start..end];
        var documented = TableKey().Matches(table).Select(m => m.Groups[1].Value).ToHashSet(StringComparer.Ordinal);

        var inCode = SettingsInCode().DistinctBy(s => s.Key).ToList();
        var missing = inCode.Where(s => !documented.Contains(s.Key)).ToList();
        Assert.True(missing.Count == 0, "README configuration reference lacks:\n" +
            string.Join("\n", missing.Select(s => $"| `{s.Key}` | `{s.Default}` | |")));
        var known = inCode.Select(s => s.Key).Concat(ReadDirectly).ToHashSet(StringComparer.Ordinal);
        var stale = documented.Where(k => !known.Contains(k)).ToList();
        Assert.True(stale.Count == 0, "README configuration reference names settings the code does not have: " + string.Join(", ", stale));
    }
}
