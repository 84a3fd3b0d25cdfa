using System.Text;
using VQToken.Engine.Text;
using VQToken.Testing;

namespace VQToken.Engine.Tests.Text;

/// <summary>Our tokenizer against Hugging Face's (JavaScript) on the real Qwen vocabulary.</summary>
[Collection(TokenizerParityCollection.Name)]
public class HuggingFaceTokenizerParityTests(NodeTokenizerReference reference)
{
    [Fact]
    public void Real_qwen_vocabulary_has_the_qwen2_sizes_and_special_ids()
    {
        QwenTokenizer qwen = reference.Qwen;

        Assert.Equal(151643, qwen.RegularTokenCount);
        Assert.Equal((151643, 151644, 151645), (qwen.EndOfTextId, qwen.ImStartId, qwen.ImEndId));
    }

    [Fact]
    public void Real_qwen_vocabulary_encodes_every_case_like_hugging_face()
    {
        var expected = reference.Encode(reference.QwenDirectory, ParityCases.All);

        var mismatches = ParityCases.All.Select((text, i) => (text, want: expected[i].Ids, got: reference.Qwen.Encode(text)))
            .Where(c => !c.want.SequenceEqual(c.got))
            .Select(c => $"{Show(c.text)}\n  hugging face: [{string.Join(", ", c.want)}]\n  ours:         [{string.Join(", ", c.got)}]")
            .ToList();
        Assert.True(mismatches.Count == 0, $"{mismatches.Count} of {ParityCases.All.Count} cases differ:\n{string.Join("\n", mismatches)}");
    }

    [Fact]
    public void Real_qwen_vocabulary_decodes_like_hugging_face_and_round_trips()
    {
        var expected = reference.Encode(reference.QwenDirectory, ParityCases.All);

        for (int i = 0; i < ParityCases.All.Count; i++)
        {
            string text = ParityCases.All[i];
            int[] ids = expected[i].Ids;
            Assert.Equal(expected[i].Decoded, reference.Qwen.Decode(ids));
            Assert.Equal(expected[i].DecodedSkipSpecial, reference.Qwen.Decode(ids, skipSpecialTokens: true));
            Assert.Equal(text.Normalize(NormalizationForm.FormC), reference.Qwen.Decode(ids));
            var stream = reference.Qwen.CreateStreamingDetokenizer(skipSpecialTokens: false);
            Assert.Equal(expected[i].Decoded, stream.Push(ids) + stream.Flush());
        }
    }

    [Fact]
    public void Chat_template_prompt_ids_match_hugging_face_on_the_real_vocabulary()
    {
        ChatMessage[][] conversations =
        [
            [new(ChatRole.User, "What is the man in the red coat doing?")],
            [new(ChatRole.User, "\n\n  Describe the video.\n")],
            [new(ChatRole.System, "Answer with one word."), new(ChatRole.User, "Is it raining? 下雨了吗？"),
             new(ChatRole.Assistant, "No."), new(ChatRole.User, "Why not? 🤔")],
        ];
        var template = new ChatTemplate(reference.Qwen);

        foreach (var messages in conversations)
        {
            // LLaVA's tokenizer_image_token: encode the text around <image> apart, put -200 between.
            string[] chunks = ChatTemplate.Render(messages).Split(ChatTemplate.ImagePlaceholder);
            Assert.Equal(2, chunks.Length);
            var hf = reference.Encode(reference.QwenDirectory, chunks);
            int[] expected = [.. hf[0].Ids, ChatTemplate.ImageTokenIndex, .. hf[1].Ids];

            Assert.Equal(expected, template.BuildPrompt(messages));
        }
    }

    [Fact]
    public void Yes_no_prompt_and_answer_ids_match_hugging_face_on_the_real_vocabulary()
    {
        var prompt = new YesNoPrompt(reference.Qwen);
        var answers = reference.Encode(reference.QwenDirectory, ["Yes", "No", " Yes"]);
        Assert.Equal([prompt.YesId], answers[0].Ids);   // one token each, without a leading space
        Assert.Equal([prompt.NoId], answers[1].Ids);
        Assert.DoesNotContain(prompt.YesId, answers[2].Ids);

        const string question = "Is there a dog on the beach?";
        string[] chunks = ChatTemplate.Render(YesNoPrompt.UserText(question)).Split(ChatTemplate.ImagePlaceholder);
        var hf = reference.Encode(reference.QwenDirectory, chunks);
        Assert.Equal([.. hf[0].Ids, ChatTemplate.ImageTokenIndex, .. hf[1].Ids], prompt.Build(question));
    }

    [Fact]
    public void Synthetic_tokenizer_files_encode_the_same_in_hugging_face()
    {
        string directory = Path.Combine(Path.GetTempPath(), "vqtoken-tok-" + Guid.NewGuid().ToString("N"));
        try
        {
            SyntheticTokenizer.Write(directory, 1000);
            var ours = QwenTokenizer.Load(directory);
            var expected = reference.Encode(directory, ParityCases.All);

            for (int i = 0; i < ParityCases.All.Count; i++)
            {
                Assert.Equal(expected[i].Ids, ours.Encode(ParityCases.All[i]));
                Assert.Equal(expected[i].Decoded, ours.Decode(expected[i].Ids));
            }
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    private static string Show(string text) =>
        "\"" + text.Replace("\r", "\\r").Replace("\n", "\\n").Replace("\t", "\\t") + "\"";
}
