using System.Text;
using Microsoft.ML.Tokenizers;

namespace VQToken.Engine.Text;

/// <summary>Unicode NFC, the normalizer Qwen2's tokenizer.json declares ("normalizer": {"type": "NFC"}).</summary>
internal sealed class NfcNormalizer : Normalizer
{
    public static NfcNormalizer Instance { get; } = new();

    public override string Normalize(string original)
    {
        try
        {
            return original.IsNormalized(NormalizationForm.FormC) ? original : original.Normalize(NormalizationForm.FormC);
        }
        catch (ArgumentException)
        {
            return original; // lone surrogates cannot be normalized; the byte-level encoder still takes them
        }
    }

    public override string Normalize(ReadOnlySpan<char> original) => Normalize(original.ToString());
}
