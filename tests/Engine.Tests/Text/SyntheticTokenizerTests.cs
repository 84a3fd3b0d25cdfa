using System.Diagnostics;
using System.Text.Json;
using VQToken.Engine.Text;
using VQToken.Testing;

namespace VQToken.Engine.Tests.Text;

public class SyntheticTokenizerTests(SmallSyntheticTokenizer synthetic) : IClassFixture<SmallSyntheticTokenizer>
{
    private QwenTokenizer Tokenizer => synthetic.Tokenizer;

    [Theory]
    [InlineData("The man in the red coat is walking his dog.")]
    [InlineData("  leading spaces,\ttabs\tand\n\nnew lines \r\n")]
    [InlineData("视频里的人在做什么？他在厨房里做汤。")]
    [InlineData("emoji 😀 and a family 👨‍👩‍👧 and a flag 🇯🇵!")]
    [InlineData("Ünïcödé àccents, ß, Ωμέγα, кириллица, العربية")]
    public void Text_round_trips_through_encode_and_decode(string text)
    {
        int[] ids = Tokenizer.Encode(text);

        Assert.All(ids, id => Assert.InRange(id, 0, SmallSyntheticTokenizer.RegularTokens - 1));
        Assert.Equal(text, Tokenizer.Decode(ids));
    }

    [Fact]
    public void Learned_merges_make_common_english_shorter_than_its_bytes()
    {
        const string text = "The person is cooking soup in the kitchen.";
        Assert.True(Tokenizer.Encode(text).Length < text.Length / 2, "expected merges learned from the built-in English text");
    }

    [Fact]
    public void Special_tokens_follow_the_regular_tokens_and_encode_as_single_ids()
    {
        Assert.Equal(SmallSyntheticTokenizer.RegularTokens, Tokenizer.RegularTokenCount);
        Assert.Equal(SmallSyntheticTokenizer.RegularTokens + 3, Tokenizer.VocabularySize);
        Assert.Equal(SmallSyntheticTokenizer.RegularTokens, Tokenizer.EndOfTextId);
        Assert.Equal(SmallSyntheticTokenizer.RegularTokens + 1, Tokenizer.ImStartId);
        Assert.Equal(SmallSyntheticTokenizer.RegularTokens + 2, Tokenizer.ImEndId);

        Assert.Equal([Tokenizer.ImStartId], Tokenizer.Encode("<|im_start|>"));
        Assert.Equal([Tokenizer.ImEndId], Tokenizer.Encode("<|im_end|>"));
        Assert.Equal([Tokenizer.EndOfTextId], Tokenizer.Encode("<|endoftext|>"));
    }

    [Fact]
    public void Vocab_json_and_merges_txt_alone_give_the_same_tokenizer_as_tokenizer_json()
    {
        string slow = Path.Combine(synthetic.Directory, "slow");
        Directory.CreateDirectory(slow);
        foreach (string name in new[] { "vocab.json", "merges.txt", "added_tokens.json", "tokenizer_config.json" })
            File.Copy(Path.Combine(synthetic.Directory, name), Path.Combine(slow, name));
        var fromSlowFiles = QwenTokenizer.Load(slow);

        const string text = "<|im_start|>user\nWhat is he doing? 他在做汤 😀<|im_end|>";
        Assert.Equal(Tokenizer.Encode(text), fromSlowFiles.Encode(text));
        Assert.Equal(Tokenizer.ImEndId, fromSlowFiles.ImEndId);
    }

    [Fact]
    public void Writing_twice_gives_identical_files()
    {
        string again = Path.Combine(synthetic.Directory, "again");
        SyntheticTokenizer.Write(again, SmallSyntheticTokenizer.RegularTokens);
        foreach (string name in new[] { "vocab.json", "merges.txt", "tokenizer.json", "tokenizer_config.json", "added_tokens.json" })
            Assert.Equal(File.ReadAllBytes(Path.Combine(synthetic.Directory, name)), File.ReadAllBytes(Path.Combine(again, name)));
    }

    [Fact]
    public void Full_size_vocabulary_is_written_and_loads_in_seconds()
    {
        string full = Path.Combine(synthetic.Directory, "full");
        SyntheticTokenizer.Write(full, SyntheticTokenizer.Qwen2RegularTokenCount);

        var clock = Stopwatch.StartNew();
        var tokenizer = QwenTokenizer.Load(full);
        clock.Stop();

        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(10), $"loading took {clock.Elapsed}");
        Assert.Equal(151643, tokenizer.RegularTokenCount);
        Assert.Equal((151643, 151644, 151645), (tokenizer.EndOfTextId, tokenizer.ImStartId, tokenizer.ImEndId));
        using var vocab = JsonDocument.Parse(File.ReadAllText(Path.Combine(full, "vocab.json")));
        Assert.Equal(151643, vocab.RootElement.EnumerateObject().Count());
        const string text = "What happens in the video? 视频里发生了什么？ 🎬";
        Assert.Equal(text, tokenizer.Decode(tokenizer.Encode(text)));
    }
}
