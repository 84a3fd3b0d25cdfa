using VQToken.Engine.Text;
using VQToken.Testing;

namespace VQToken.Engine.Tests.Text;

/// <summary>A synthetic tokenizer with 600 regular tokens in a temporary folder, deleted afterwards.</summary>
public sealed class SmallSyntheticTokenizer : IDisposable
{
    public const int RegularTokens = 600;

    public SmallSyntheticTokenizer()
    {
        Directory = Path.Combine(Path.GetTempPath(), "vqtoken-tok-" + Guid.NewGuid().ToString("N"));
        SyntheticTokenizer.Write(Directory, RegularTokens);
        Tokenizer = QwenTokenizer.Load(Directory);
    }

    public string Directory { get; }
    public QwenTokenizer Tokenizer { get; }

    public void Dispose() => System.IO.Directory.Delete(Directory, recursive: true);
}
