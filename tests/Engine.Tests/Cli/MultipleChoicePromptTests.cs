using VQToken.Cli.Eval;

namespace VQToken.Engine.Tests.Cli;

public sealed class MultipleChoicePromptTests
{
    [Fact]
    public void Prompt_lists_options_by_letter_then_the_lmms_eval_instruction()
    {
        var prompt = MultipleChoicePrompt.Build(" why did the boy run? ", ["to catch the ball", " because it rained "]);

        Assert.Equal("why did the boy run?\nA. to catch the ball\nB. because it rained\nAnswer with the option's letter from the given choices directly.", prompt);
    }

    [Theory]
    [InlineData("B", 'B')]
    [InlineData("B.", 'B')]
    [InlineData(" (C) the dog", 'C')]
    [InlineData("Answer: A", 'A')]
    [InlineData("E", null)]          // only 4 options
    [InlineData("none of them", null)]
    public void Answer_letter_is_the_first_standalone_option_letter(string output, char? expected) =>
        Assert.Equal(expected, MultipleChoicePrompt.ParseLetter(output, 4));
}
