using VQToken.Engine.Text;

namespace VQToken.Engine.Tests.Text;

public class StreamingDetokenizerTests(SmallSyntheticTokenizer synthetic) : IClassFixture<SmallSyntheticTokenizer>
{
    private QwenTokenizer Tokenizer => synthetic.Tokenizer;

    [Theory]
    [InlineData("😀")]
    [InlineData("汤")]
    [InlineData("👨‍👩‍👧")]
    public void Character_split_over_tokens_comes_out_whole_with_its_last_token(string character)
    {
        int[] ids = Tokenizer.Encode(character);
        Assert.True(ids.Length > 1, "the small synthetic vocabulary should split this character into byte tokens");
        var stream = Tokenizer.CreateStreamingDetokenizer();

        string[] pieces = ids.Select(stream.Push).ToArray();

        Assert.Equal(character, string.Concat(pieces));
        Assert.All(pieces, p => Assert.DoesNotContain('\uFFFD', p));
        Assert.Equal(string.Empty, pieces[0]);
    }

    [Fact]
    public void Pieces_concatenate_to_the_full_decode()
    {
        const string text = "He says: 你好, 世界! 🎬🍿 The end.";
        int[] ids = Tokenizer.Encode(text);
        var stream = Tokenizer.CreateStreamingDetokenizer();

        var pieces = ids.Select(stream.Push).ToList();
        pieces.Add(stream.Flush());

        Assert.Equal(text, string.Concat(pieces));
        Assert.Equal(text, stream.Text);
        Assert.All(pieces, p => Assert.DoesNotContain('\uFFFD', p));
    }

    [Fact]
    public void Special_tokens_are_skipped_by_default_and_kept_on_request()
    {
        int[] ids = [.. Tokenizer.Encode("done"), Tokenizer.ImEndId];

        Assert.Equal("done", Tokenizer.CreateStreamingDetokenizer().Push(ids));
        Assert.Equal("done<|im_end|>", Tokenizer.CreateStreamingDetokenizer(skipSpecialTokens: false).Push(ids));
    }

    [Fact]
    public void Unfinished_character_is_flushed_as_a_replacement_character()
    {
        int[] ids = Tokenizer.Encode("a😀");
        var stream = Tokenizer.CreateStreamingDetokenizer();

        string text = stream.Push(ids[..^1]);

        Assert.Equal("a", text);
        Assert.Equal("\uFFFD", stream.Flush());
    }
}
