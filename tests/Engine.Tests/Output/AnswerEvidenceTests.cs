using VQToken.Engine.Checkpoints;
using VQToken.Engine.Compression;
using VQToken.Engine.Generation;
using VQToken.Engine.Models;
using VQToken.Engine.Output;
using VQToken.Engine.Runtime;
using VQToken.Engine.Tests.Runtime;
using VQToken.Engine.Tests.Support;
using static TorchSharp.torch;

namespace VQToken.Engine.Tests.Output;

/// <summary>The tiny random checkpoint loaded once, with its language-model weights as managed arrays for
/// <see cref="ReferenceQwen2"/>.</summary>
public sealed class EvidenceModelFixture : IDisposable
{
    private readonly Dictionary<string, float[]> _weights = new(StringComparer.Ordinal);

    public TinyCheckpointFixture Tiny { get; } = new();
    internal LlavaOneVision Model { get; }
    internal ReferenceQwen2 Reference { get; }
    internal int Dim => Model.Config.Text.HiddenSize;

    public EvidenceModelFixture()
    {
        Model = LlavaOneVision.Load(Tiny.Directory);
        using (var reader = new CheckpointReader(Tiny.Directory))
            foreach (var name in reader.Names.Where(n => n.StartsWith("model.embed_tokens", StringComparison.Ordinal) || n.StartsWith("model.layers.", StringComparison.Ordinal)
                         || n is "model.norm.weight" or "lm_head.weight" or "model.image_newline"))
                using (var t = reader.Load(name, ScalarType.Float32))
                    _weights[name] = t.data<float>().ToArray();
        Reference = new ReferenceQwen2(Model.Config.Text, Weight);
    }

    internal float[]? Weight(string name) => _weights.GetValueOrDefault(name);

    /// <summary>A visual row whose layer-0 key matches the last prompt position's queries: the gradient of the summed
    /// head scores q_h · R(p) k(u) over the normed input u, mapped back through the RMSNorm weight (unit RMS). <paramref name="position"/>
    /// is the row's cache position; the prompt holds <paramref name="visualTokens"/> visual rows.</summary>
    internal double[] Matching(int[] prompt, int position, int visualTokens)
    {
        var c = Model.Config.Text;
        int hd = c.HeadDim, group = c.NumAttentionHeads / c.NumKeyValueHeads;
        float[] W(string name) => Weight("model.layers.0." + name)!;
        var last = Reference.Embedding(Weight("model.embed_tokens.weight")!, prompt[^1]);
        int promptLength = prompt.Length - 1 + visualTokens;
        var q = ReferenceQwen2.MatVec(W("self_attn.q_proj.weight"), ReferenceQwen2.RmsNorm(last, W("input_layernorm.weight"), c.RmsNormEps),
            c.NumAttentionHeads * hd, W("self_attn.q_proj.bias"));
        var wk = W("self_attn.k_proj.weight");
        var gradient = new double[c.HiddenSize];
        for (int h = 0; h < c.NumAttentionHeads; h++)
        {
            var rotated = ReferenceQwen2.Rope(q.Skip(h * hd).Take(hd).ToArray(), promptLength - 1 - position, c.RopeTheta);   // R(p)ᵀ R(L-1) q
            int g = h / group;
            for (int j = 0; j < hd; j++)
                for (int i = 0; i < c.HiddenSize; i++) gradient[i] += rotated[j] * wk[(g * hd + j) * c.HiddenSize + i];
        }
        var norm = W("input_layernorm.weight");
        var x = gradient.Select((v, i) => v * norm[i]).ToArray();
        double rms = Math.Sqrt(x.Average(v => v * v));
        return x.Select(v => v / rms).ToArray();
    }

    public void Dispose()
    {
        Model.Dispose();
        Tiny.Dispose();
    }
}

/// <summary>Answer evidence end to end: the engine's visual attention against a naive softmax over all positions
/// computed here from the checkpoint's weights, a planted cluster, and evidence next to plain asks in batched decode.</summary>
public class AnswerEvidenceTests(EvidenceModelFixture fx) : IClassFixture<EvidenceModelFixture>
{
    private const int Frames = 3, Grid = 3, K = 4;

    [Fact]
    public void Each_tokens_visual_attention_matches_a_naive_softmax_over_all_positions()
    {
        var encoding = Codebook(RandomRows(K, seed: 1), RandomIndexMap(seed: 2));
        var prompt = fx.Tiny.Template.BuildPrompt("Where is the red ball?");

        var result = Generate(encoding, prompt, SamplingOptions.Greedy(6));

        Assert.Equal(6, result.Tokens.Count);
        var attention = result.VisualAttention!;
        var expected = NaiveVisualAttention(encoding, prompt, result.Tokens);
        Assert.Equal(Array.IndexOf(prompt, (int)LlavaOneVision.ImageTokenIndex), attention.VisualStart);
        Assert.Equal(6, attention.TokenShares.Count);
        for (int t = 0; t < 6; t++) Assert.InRange(Math.Abs(attention.TokenShares[t] - expected[t].Sum()), 0, 1e-5);
        for (int r = 0; r < K + 1; r++) Assert.InRange(Math.Abs(attention.RowMass[r] - expected.Average(e => e[r])), 0, 1e-5);
        Assert.True(attention.VisualShare < 0.999, $"the text positions got no attention at all ({attention.VisualShare})");
        Assert.Equal(attention.VisualShare, result.Evidence!.VisualShare);
    }

    [Fact]
    public void A_stop_id_ends_the_answer_and_its_step_is_left_out_of_the_evidence()
    {
        var encoding = Codebook(RandomRows(K, seed: 3), RandomIndexMap(seed: 4));
        var prompt = fx.Tiny.Template.BuildPrompt("What colour is the car?");
        var whole = Generate(encoding, prompt, SamplingOptions.Greedy(6));
        int cut = Enumerable.Range(1, whole.Tokens.Count - 1).First(t => !whole.Tokens.Take(t).Contains(whole.Tokens[t]));

        var stopped = Generate(encoding, prompt, SamplingOptions.Greedy(6, new HashSet<long> { whole.Tokens[cut] }));

        Assert.Equal(whole.Tokens.Take(cut), stopped.Tokens);
        Assert.Equal(FinishReason.Stop, stopped.FinishReason);
        var attention = stopped.VisualAttention!;
        Assert.Equal(cut, attention.TokenShares.Count);
        var expected = NaiveVisualAttention(encoding, prompt, whole.Tokens).Take(cut).ToArray();
        for (int r = 0; r < K + 1; r++) Assert.InRange(Math.Abs(attention.RowMass[r] - expected.Average(e => e[r])), 0, 1e-5);
    }

    [Fact]
    public async Task A_stop_string_finishes_the_answer_with_the_evidence_of_every_token_up_to_the_one_that_completed_it()
    {
        var encoding = Codebook(RandomRows(K, seed: 6), RandomIndexMap(seed: 7));
        var prompt = fx.Tiny.Template.BuildPrompt("What is the man holding?");
        var tokenizer = fx.Tiny.Tokenizer;
        var noStopIds = new HashSet<long>();   // every answer runs to its limit unless a stop string ends it
        AskRequest Ask(int max) => new("ev-stop", encoding, prompt, SamplingOptions.Greedy(max), Evidence: true);
        await using var engine = fx.Tiny.NewEngine();
        var whole = await AnswerGeneration.GenerateAsync(engine, tokenizer, Ask(12), [], stopIds: noStopIds);
        Assert.Equal(12, whole.Engine.Tokens.Count);
        var texts = Enumerable.Range(0, 13).Select(n => OutputProcessor.Decode(tokenizer, null, whole.Engine.Tokens.Take(n), FinishReason.Length).Text).ToArray();
        // A stop string made of the text of tokens k .. k+span-1 that first occurs right there: the answer is the text of
        // the first k tokens, and the engine's answer ends at token k+span-1, which completed the stop string.
        var (k, span) = (from sp in new[] { 2, 1 } from at in Enumerable.Range(0, 12 - sp).Reverse()
                         where Enumerable.Range(at, sp).All(n => texts[n + 1].Length > texts[n].Length && texts[n + 1].StartsWith(texts[n], StringComparison.Ordinal))
                         let candidate = texts[at + sp][texts[at].Length..]
                         where whole.Text.IndexOf(candidate, StringComparison.Ordinal) == texts[at].Length
                         select (at, sp)).First();
        string stop = texts[k + span][texts[k].Length..];
        Assert.True(k > 0, "the stop string starts the answer: nothing is left before it");
        var streamed = new System.Text.StringBuilder();

        var stopped = await AnswerGeneration.GenerateAsync(engine, tokenizer, Ask(12), [stop], p => { streamed.Append(p); return Task.CompletedTask; },
            stopIds: noStopIds);

        Assert.Equal(FinishReason.Stop, stopped.FinishReason);
        Assert.Equal(FinishReason.Stop, stopped.Engine.FinishReason);
        Assert.Equal(texts[k], stopped.Text);
        Assert.Equal(stopped.Text, streamed.ToString());
        Assert.Equal(whole.Engine.Tokens.Take(k + span), stopped.Engine.Tokens);
        Assert.Equal(k + span, stopped.CompletionTokens);
        var attention = stopped.Engine.VisualAttention!;
        Assert.Equal(k + span, attention.TokenShares.Count);
        Assert.All(attention.TokenShares.Zip(whole.Engine.VisualAttention!.TokenShares), p => Assert.InRange(Math.Abs(p.First - p.Second), 0, 1e-6));
        // The same tokens ended by their count carry the same evidence.
        var limited = await engine.AskAsync(Ask(k + span));
        Assert.Equal(stopped.Engine.Tokens, limited.Tokens);
        Assert.All(attention.RowMass.Zip(limited.VisualAttention!.RowMass), p => Assert.InRange(Math.Abs(p.First - p.Second), 0, 1e-6));
        Assert.Equal(limited.Evidence!.Frames.Select(f => f.Frame), stopped.Engine.Evidence!.Frames.Select(f => f.Frame));

        // Raised before the engine took the ask (not from a token callback), the signal finishes it with nothing produced.
        var early = new FinishSignal();
        early.Raise();
        var empty = await engine.AskAsync(Ask(12) with { Finish = early });
        Assert.Empty(empty.Tokens);
        Assert.Equal(FinishReason.Stop, empty.FinishReason);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(2)]
    public void A_cluster_built_to_match_the_answers_query_ranks_its_frame_first(int frame)
    {
        const int planted = 2;
        var prompt = fx.Tiny.Template.BuildPrompt("When does the dog jump?");
        int image = Array.IndexOf(prompt, (int)LlavaOneVision.ImageTokenIndex);
        var codebook = RandomRows(K, seed: 5);
        fx.Matching(prompt, image + planted, K + 1).Select(v => (float)v).ToArray().CopyTo(codebook, planted * fx.Dim);
        // The planted cluster fills one frame; the other clusters share the other frames' cells.
        var others = new short[] { 0, 1, 3 };
        var indexMap = Enumerable.Range(0, Frames * Grid * Grid)
            .Select(c => c / (Grid * Grid) == frame ? (short)planted : others[c % others.Length]).ToArray();

        var result = Generate(Codebook(codebook, indexMap), prompt, SamplingOptions.Greedy(1));

        var mass = result.VisualAttention!.RowMass;
        Assert.Equal(planted, Enumerable.Range(0, K).MaxBy(r => mass[r]));
        Assert.Equal(frame, result.Evidence!.Frames[0].Frame);
        Assert.Equal(mass[planted], result.Evidence.Frames[0].Score, 9);
    }

    [Fact]
    public async Task Evidence_leaves_the_answers_unchanged_in_batched_decode_next_to_plain_asks()
    {
        await using var engine = fx.Tiny.NewEngine(o => o.MaxPrefillsPerStep = 8);
        var encoding = await engine.EncodeAsync(TinyCheckpointFixture.Encode("ev-batch", TinyCheckpointFixture.RandomFrames(2, seed: 11)));
        var questions = Enumerable.Range(0, 6).Select(i => $"question {i}: what is happening here?").ToList();
        AskRequest Ask(string q, bool evidence) => new("ev-batch", encoding, fx.Tiny.Template.BuildPrompt(q), SamplingOptions.Greedy(8), false, Evidence: evidence);

        var plain = new List<AskResult>();
        var alone = new List<AskResult>();
        foreach (var q in questions)
        {
            plain.Add(await engine.AskAsync(Ask(q, evidence: false)));
            alone.Add(await engine.AskAsync(Ask(q, evidence: true)));
        }
        Assert.Equal(1, engine.MaxDecodeBatch);
        var mixed = await Task.WhenAll(questions.Select((q, i) => engine.AskAsync(Ask(q, evidence: i % 2 == 0))));

        Assert.True(engine.MaxDecodeBatch > 1, $"decode steps were never shared (max batch {engine.MaxDecodeBatch})");
        for (int i = 0; i < questions.Count; i++)
        {
            Assert.Equal(plain[i].Tokens, alone[i].Tokens);
            Assert.Equal(plain[i].Tokens, mixed[i].Tokens);
            Assert.Null(plain[i].Evidence);
            if (i % 2 == 1)
            {
                Assert.Null(mixed[i].VisualAttention);
                continue;
            }
            var (single, batched) = (alone[i].VisualAttention!, mixed[i].VisualAttention!);
            Assert.Equal(single.TokenShares.Count, batched.TokenShares.Count);
            Assert.All(single.TokenShares.Zip(batched.TokenShares), p => Assert.InRange(Math.Abs(p.First - p.Second), 0, 1e-5));
            Assert.All(single.RowMass.Zip(batched.RowMass), p => Assert.InRange(Math.Abs(p.First - p.Second), 0, 1e-5));
        }
        Assert.Contains(plain, p => p.Tokens.Count > 1);
    }

    [Theory]
    [InlineData(CompressionMode.VQTokenFixed, TokenPath.Codebook)]
    [InlineData(CompressionMode.VQTokenFixed, TokenPath.Attention)]
    [InlineData(CompressionMode.Full, TokenPath.Codebook)]
    public async Task Evidence_maps_each_token_paths_rows_onto_the_frames_and_survives_the_prefix_cache(CompressionMode mode, TokenPath path)
    {
        await using var engine = fx.Tiny.NewEngine();
        var frames = TinyCheckpointFixture.RandomFrames(2, seed: 12);
        var settings = mode == CompressionMode.Full ? null : CompressionSettings.Fixed(2, 3, path);
        var encoding = await engine.EncodeAsync(new EncodeRequest("ev-map", frames, mode, settings));
        var request = new AskRequest("ev-map", encoding, fx.Tiny.Template.BuildPrompt("Show me the cat."), SamplingOptions.Greedy(4), Evidence: true);

        var first = await engine.AskAsync(request);
        var again = await engine.AskAsync(request);

        Assert.True(again.PrefixCacheHit);
        Assert.Equal(first.VisualAttention!.RowMass, again.VisualAttention!.RowMass);
        var evidence = first.Evidence!;
        var mass = first.VisualAttention.RowMass;
        Assert.Equal(encoding.VisualTokens, mass.Count);
        Assert.Equal(2, evidence.Frames.Count);
        Assert.Equal(encoding.VisualTokens - 1, evidence.Tokens.Count);           // every row but image_newline has a footprint
        Assert.Equal(encoding.OriginalTokens, evidence.CellScores.Length);
        Assert.Equal(mass.Take(mass.Count - 1).Sum(), evidence.Frames.Sum(f => f.Score), 9);
        Assert.True(evidence.Frames[0].Score >= evidence.Frames[1].Score);
        // Each path's own footprint: a cluster's cells in the index map, a whole frame, or a pooled cell's 1-4 sources.
        var cells = evidence.Tokens.Select(t => t.Cells).ToArray();
        if (mode == CompressionMode.Full) Assert.All(cells, c => Assert.InRange(c, 1, 4));
        else if (path == TokenPath.Codebook)
            Assert.Equal(Enumerable.Range(0, 3).Select(k => encoding.Compressed!.IndexMapValues.ToArray().Count(id => id == k)), cells);
        else Assert.All(cells, c => Assert.Equal(encoding.OriginalTokens / 2, c));
        Assert.InRange(evidence.VisualShare, 1e-6, 1.0);
    }

    private AskResult Generate(VideoEncoding encoding, int[] prompt, SamplingOptions sampling) =>
        TextGenerator.Generate(fx.Model, new AskRequest("planted", encoding, prompt, sampling, Evidence: true));

    private VideoEncoding Codebook(float[] codebook, short[] indexMap) => new()
    {
        Mode = CompressionMode.VQTokenFixed, Dim = fx.Dim, Frames = Frames, OriginalTokens = Frames * Grid * Grid, VisualTokens = K + 1,
        Compressed = CompressedVideo.FromArrays(Frames, Grid, K, fx.Dim, codebook, indexMap, CompressionSettings.Fixed(Frames, K)),
    };

    private float[] RandomRows(int rows, int seed) => Managed.Uniform(new Random(seed), rows * fx.Dim);

    private static short[] RandomIndexMap(int seed)
    {
        var random = new Random(seed);
        var map = Enumerable.Range(0, Frames * Grid * Grid).Select(_ => (short)random.Next(K)).ToArray();
        for (short k = 0; k < K; k++) map[k] = k;   // no empty cluster
        return map;
    }

    /// <summary>Per generated token, the mean over layers and heads of its producing position's attention on each
    /// visual row: the prompt (visual rows spliced in) and the answer's tokens through the naive reference decoder.</summary>
    private double[][] NaiveVisualAttention(VideoEncoding encoding, int[] prompt, IReadOnlyList<long> tokens)
    {
        int image = Array.IndexOf(prompt, (int)LlavaOneVision.ImageTokenIndex);
        var embed = fx.Weight("model.embed_tokens.weight")!;
        var codebook = encoding.Compressed!.CodebookValues.ToArray();
        var rows = prompt.Take(image).Select(id => fx.Reference.Embedding(embed, id)).ToList();
        for (int k = 0; k < K; k++) rows.Add(codebook.Skip(k * fx.Dim).Take(fx.Dim).Select(v => (double)v).ToArray());
        rows.Add(fx.Weight("model.image_newline")!.Select(v => (double)v).ToArray());
        rows.AddRange(prompt.Skip(image + 1).Select(id => fx.Reference.Embedding(embed, id)));
        int last = rows.Count - 1;
        rows.AddRange(tokens.Take(tokens.Count - 1).Select(id => fx.Reference.Embedding(embed, id)));
        var weights = fx.Reference.AttentionWeights(rows.ToArray());
        return tokens.Select((_, t) => Enumerable.Range(0, K + 1).Select(r => weights[last + t].Average(head => head[image + r])).ToArray()).ToArray();
    }
}
