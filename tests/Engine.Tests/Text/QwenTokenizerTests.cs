using VQToken.Engine.Text;

namespace VQToken.Engine.Tests.Text;

public class QwenTokenizerTests(SmallSyntheticTokenizer synthetic) : IClassFixture<SmallSyntheticTokenizer>
{
    private QwenTokenizer Tokenizer => synthetic.Tokenizer;

    [Fact]
    public void Im_end_and_end_of_text_are_the_stop_tokens()
    {
        Assert.Equal(new HashSet<int> { Tokenizer.ImEndId, Tokenizer.EndOfTextId }, Tokenizer.StopTokenIds);
        Assert.True(Tokenizer.IsStopToken(Tokenizer.ImEndId));
        Assert.True(Tokenizer.IsStopToken(Tokenizer.EndOfTextId));
        Assert.False(Tokenizer.IsStopToken(Tokenizer.ImStartId));
        Assert.All(Tokenizer.Encode("The answer is: soup."), id => Assert.False(Tokenizer.IsStopToken(id)));
    }

    [Fact]
    public void Encode_turns_special_strings_into_single_ids_between_ordinary_text()
    {
        int[] ids = Tokenizer.Encode("hi<|im_end|>\n<|im_start|>there");

        Assert.Equal([.. Tokenizer.Encode("hi"), Tokenizer.ImEndId, .. Tokenizer.Encode("\n"), Tokenizer.ImStartId, .. Tokenizer.Encode("there")], ids);
    }

    [Fact]
    public void Encode_plain_text_never_produces_special_ids()
    {
        int[] ids = Tokenizer.EncodePlainText("<|im_start|><|im_end|><|endoftext|>");

        Assert.All(ids, id => Assert.InRange(id, 0, Tokenizer.RegularTokenCount - 1));
        Assert.Equal("<|im_start|><|im_end|><|endoftext|>", Tokenizer.Decode(ids));
    }

    [Fact]
    public void Decode_writes_or_skips_special_tokens_and_drops_ids_without_text()
    {
        int[] ids = [Tokenizer.ImStartId, .. Tokenizer.Encode("ok"), ChatTemplate.ImageTokenIndex, 151900, Tokenizer.ImEndId];

        Assert.Equal("<|im_start|>ok<|im_end|>", Tokenizer.Decode(ids));
        Assert.Equal("ok", Tokenizer.Decode(ids, skipSpecialTokens: true));
    }

    [Fact]
    public void Text_is_nfc_normalized_before_encoding_as_qwen2_declares()
    {
        Assert.Equal(Tokenizer.Encode("caf\u00e9"), Tokenizer.Encode("cafe\u0301"));
    }

    [Fact]
    public void Concurrent_encoding_gives_the_same_ids_as_sequential_encoding()
    {
        string[] texts = Enumerable.Range(0, 200).Select(i => $"Question {i}: what happens at {i}:00? 视频 {i} 😀 it's {i}").ToArray();
        int[][] sequential = texts.Select(Tokenizer.Encode).ToArray();

        var concurrent = new int[texts.Length][];
        Parallel.For(0, texts.Length, new ParallelOptions { MaxDegreeOfParallelism = 8 }, i => concurrent[i] = Tokenizer.Encode(texts[i]));

        Assert.Equal(sequential, concurrent);
    }

    [Fact]
    public void Missing_tokenizer_files_give_a_clear_error()
    {
        string empty = Path.Combine(synthetic.Directory, "empty");
        Directory.CreateDirectory(empty);

        var error = Assert.Throws<FileNotFoundException>(() => QwenTokenizer.Load(empty));
        Assert.Contains("tokenizer.json", error.Message);
    }
}
