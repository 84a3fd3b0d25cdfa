using YamlDotNet.RepresentationModel;

namespace VQToken.Api.Tests.Deployment;

/// <summary>Reading YAML (manifests, docker-compose's normalised output) as plain nodes, with a path helper.</summary>
internal static class YamlDocs
{
    public static IReadOnlyList<YamlMappingNode> Parse(string text)
    {
        var stream = new YamlStream();
        stream.Load(new StringReader(text));
        return stream.Documents.Select(d => d.RootNode).OfType<YamlMappingNode>().ToList();
    }

    /// <summary>The node at <paramref name="path"/> (mapping keys, or list indexes as numbers), or null.</summary>
    public static YamlNode? At(this YamlNode node, params string[] path)
    {
        YamlNode? current = node;
        foreach (var key in path)
        {
            current = current switch
            {
                YamlMappingNode map => map.Children.TryGetValue(new YamlScalarNode(key), out var child) ? child : null,
                YamlSequenceNode list when int.TryParse(key, out var i) && i < list.Children.Count => list.Children[i],
                _ => null,
            };
            if (current is null) return null;
        }
        return current;
    }

    public static string? Text(this YamlNode node, params string[] path) => (node.At(path) as YamlScalarNode)?.Value;

    public static IEnumerable<YamlNode> Items(this YamlNode node, params string[] path) =>
        node.At(path) as YamlSequenceNode ?? Enumerable.Empty<YamlNode>();
}
