using System.Text;
using VQToken.Engine.Generation;
using VQToken.Engine.Output;
using VQToken.Engine.Tests.Text;

namespace VQToken.Engine.Tests.Output;

public class OutputProcessorTests(SmallSyntheticTokenizer synthetic) : IClassFixture<SmallSyntheticTokenizer>
{
    private Engine.Text.QwenTokenizer Tokenizer => synthetic.Tokenizer;

    private long[] Ids(string text) => Tokenizer.EncodePlainText(text).Select(i => (long)i).ToArray();

    [Fact]
    public void Streamed_pieces_concatenate_to_the_decoded_answer()
    {
        var output = new OutputProcessor(Tokenizer);
        var streamed = new StringBuilder();
        foreach (var id in Ids("A cat sits — on a mat 🐈.")) streamed.Append(output.Push(id));
        streamed.Append(output.Complete(FinishReason.Length));

        Assert.Equal("A cat sits — on a mat 🐈.", streamed.ToString());
        Assert.Equal(streamed.ToString(), output.Text);
        Assert.Equal(FinishReason.Length, output.FinishReason);
        Assert.Equal(Ids("A cat sits — on a mat 🐈.").Length, output.CompletionTokens);
    }

    [Fact]
    public void A_stop_string_ends_the_answer_before_it_and_never_streams_its_start()
    {
        var output = new OutputProcessor(Tokenizer, ["END", "\n\n"]);
        var streamed = new StringBuilder();
        foreach (var id in Ids("The dog runs.ENDING and more"))
        {
            streamed.Append(output.Push(id));
            if (output.StoppedByString) break;
        }
        streamed.Append(output.Complete(FinishReason.Length));

        Assert.Equal("The dog runs.", streamed.ToString());
        Assert.Equal("The dog runs.", output.Text);
        Assert.Equal(FinishReason.Stop, output.FinishReason);
        Assert.True(output.StoppedByString);
    }

    [Fact]
    public void The_first_of_several_stop_strings_wins()
    {
        var output = OutputProcessor.Decode(Tokenizer, ["zz", "yy"], Ids("abc yy def zz"), FinishReason.Length);

        Assert.Equal("abc ", output.Text);
        Assert.Equal(FinishReason.Stop, output.FinishReason);
    }

    [Fact]
    public void Text_that_might_start_a_stop_string_is_held_back_then_released()
    {
        var output = new OutputProcessor(Tokenizer, ["STOP"]);
        var pieces = Ids("go ST").Select(output.Push).ToList();
        Assert.DoesNotContain("ST", string.Concat(pieces));                  // could still become "STOP"

        Assert.Equal("go ST", string.Concat(pieces) + output.Complete(FinishReason.Stop));
        Assert.False(output.StoppedByString);
    }

    [Fact]
    public void Special_tokens_are_not_part_of_the_text()
    {
        var output = OutputProcessor.Decode(Tokenizer, null, [.. Ids("yes"), Tokenizer.ImEndId], FinishReason.Stop);

        Assert.Equal("yes", output.Text);
        Assert.Equal(FinishReason.Stop, output.FinishReason);
    }

    [Fact]
    public void Pushing_after_the_end_is_refused()
    {
        var output = OutputProcessor.Decode(Tokenizer, null, Ids("x"), FinishReason.Length);

        Assert.Throws<InvalidOperationException>(() => output.Push(Ids("y")[0]));
    }
}
