using VQToken.Engine.Checkpoints;
using VQToken.Engine.Compression;
using VQToken.Engine.Generation;
using VQToken.Engine.Kernels;
using VQToken.Engine.Models;
using VQToken.Testing;
using VQToken.Engine.Runtime;
using VQToken.Engine.Tests.Support;
using TorchSharp;
using static TorchSharp.torch;

namespace VQToken.Engine.Tests.Models;

/// <summary>A parity fixture's weights rounded to bf16, loaded twice: held in bf16 (the default for a bf16
/// checkpoint on the CPU) and widened to float32. bf16 → float32 is exact, so both must compute the same
/// model: the same greedy tokens, logits within 1e-5.</summary>
[Collection(VQToken.Engine.Tests.Cli.WholeProcessCollection.Name)]   // decode regions switch libtorch's thread count
public sealed class Bf16ResidencyTests : IDisposable
{
    private const string Fixture = "parity-b";   // its greedy tokens vary
    private readonly TempDir _temp = new();
    private readonly LlavaOneVision _bf16, _float32;

    public Bf16ResidencyTests()
    {
        var dir = FixtureModels.CopyWith(_temp, Fixture, tensors =>
        {
            foreach (var name in tensors.Names.ToList())
                if (tensors[name].is_floating_point()) tensors.Set(name, tensors[name].to_type(ScalarType.BFloat16));
        });
        _bf16 = LlavaOneVision.Load(dir, CPU, ScalarType.Float32);
        _float32 = LlavaOneVision.Load(dir, CPU, ScalarType.Float32, WeightResidency.Float32);
    }

    public void Dispose()
    {
        _bf16.Dispose();
        _float32.Dispose();
        _temp.Dispose();
    }

    [Fact]
    public void A_bf16_checkpoint_keeps_its_linear_weights_in_bf16_unless_float32_residency_is_asked()
    {
        Assert.True(_bf16.Bf16Resident);
        Assert.False(_float32.Bf16Resident);
        Assert.Equal(ScalarType.Float32, _bf16.DType);
        var held = _bf16.Language.named_parameters().ToDictionary(p => p.name, p => p.parameter.dtype);
        Assert.Equal(ScalarType.BFloat16, held["model.embed_tokens.weight"]);
        Assert.Equal(ScalarType.BFloat16, held["model.layers.0.self_attn.q_proj.weight"]);
        Assert.Equal(ScalarType.BFloat16, held["model.layers.1.mlp.down_proj.weight"]);
        Assert.Equal(ScalarType.Float32, held["model.layers.0.self_attn.q_proj.bias"]);   // biases and norms: small, float32
        var vision = _bf16.VisionTower.named_parameters().ToDictionary(p => p.name, p => p.parameter.dtype);
        Assert.Equal(ScalarType.BFloat16, vision["encoder.layers.0.mlp.fc1.weight"]);
        Assert.Equal(ScalarType.BFloat16, vision["encoder.layers.0.self_attn.q_proj.weight"]);
        Assert.Equal(ScalarType.Float32, vision["encoder.layers.0.mlp.fc1.bias"]);
        Assert.All(_bf16.Projector.parameters().Where(p => p.dim() == 2), p => Assert.Equal(ScalarType.BFloat16, p.dtype));
        foreach (var module in new TorchSharp.torch.nn.Module[] { _float32.Language, _float32.VisionTower, _float32.Projector })
            Assert.All(module.parameters(), p => Assert.Equal(ScalarType.Float32, p.dtype));
        // Every bf16-held element saves 2 bytes (the untied lm_head included); nothing else changes.
        long heldElements = new TorchSharp.torch.nn.Module[] { _bf16.Language, _bf16.VisionTower, _bf16.Projector }
            .SelectMany(m => m.parameters()).Where(p => p.dtype == ScalarType.BFloat16).Sum(p => p.NumberOfElements) + _bf16.Language.LmHeadBytes / 2;
        Assert.True(heldElements > _float32.WeightBytes / 4 / 2, $"only {heldElements} of {_float32.WeightBytes / 4} elements held in bf16");
        Assert.Equal(_float32.WeightBytes - 2 * heldElements, _bf16.WeightBytes);
    }

    [Fact]
    public void A_short_prefill_over_bf16_weights_runs_in_a_kernel_region_and_a_long_one_does_not()
    {
        if (!SkinnyLinear.Supported || Bf16RowsKernel.Path != "avx512") throw new InvalidOperationException("no AVX-512 or no OpenMP entry points: the region cannot be checked here");
        int Threads(LlavaOneVision model, long positions)
        {
            using (model.PrefillRegion(positions)) return SkinnyLinear.RegionThreads;
        }
        Assert.True(Threads(_bf16, 63) > 0);
        Assert.True(Threads(_bf16, LlavaOneVision.ShortPrefill) > 0);
        Assert.Equal(0, Threads(_bf16, LlavaOneVision.ShortPrefill + 1));   // long: libtorch keeps its threads for attention
        Assert.Equal(0, Threads(_float32, 63));                              // float32-held: libtorch's GEMM needs its threads
        Assert.Equal(0, SkinnyLinear.RegionThreads);                         // closed again
    }

    [Fact]
    public void A_float32_checkpoint_stays_float32_under_auto_residency()
    {
        using var model = LlavaOneVision.Load(TestPaths.FixtureModel(Fixture), CPU, ScalarType.Float32);
        Assert.False(model.Bf16Resident);
        Assert.All(model.Language.parameters(), p => Assert.Equal(ScalarType.Float32, p.dtype));
    }

    [Fact]
    public void Every_stage_of_the_fixture_run_matches_float32_residency()
    {
        using var scope = NewDisposeScope();
        var held = FixtureRun.Stages(_bf16, Fixture);
        var widened = FixtureRun.Stages(_float32, Fixture);
        long bf16Calls = Bf16Linear.WidenedCallsOnThisThread + Bf16Linear.KernelCallsOnThisThread;
        Assert.Equal(widened.Select(s => s.Stage), held.Select(s => s.Stage));
        for (int i = 0; i < held.Count; i++)
        {
            Assert.Equal(widened[i].Output.shape, held[i].Output.shape);
            double difference = (held[i].Output - widened[i].Output).abs().max().item<float>();
            Assert.True(difference <= 1e-5, $"{held[i].Stage}: max difference {difference}");
        }
        Assert.True(bf16Calls > 0, "the prompt's prefill did not compute from the bf16 weights");
    }

    [Fact]
    public void Greedy_answers_and_every_decode_step_match_float32_residency()
    {
        var (ids, encoding) = Prompt();
        var options = SamplingOptions.Greedy(12);
        var held = TextGenerator.Generate(_bf16, new AskRequest("bf16", encoding, ids, options, UsePrefixCache: false));
        var widened = TextGenerator.Generate(_float32, new AskRequest("f32", encoding, ids, options, UsePrefixCache: false));
        Assert.Equal(12, held.Tokens.Count);
        Assert.True(held.Tokens.Distinct().Count() > 1, "the fixture's greedy answer repeats one token: a weak comparison");
        Assert.Equal(widened.Tokens, held.Tokens);

        // Decode steps of 1 and 3 sequences, as the model runner opens them, logits compared step by step.
        using var scope = NewDisposeScope();
        foreach (int rows in new[] { 1, 3 })
        {
            var caches = new List<KvCache>();
            try
            {
                var embeds = randn([1, 20, _bf16.Config.Text.HiddenSize], generator: new Generator(7));
                foreach (var model in new[] { _bf16, _float32 })
                    for (int r = 0; r < rows; r++)
                    {
                        var cache = model.Language.NewCache();
                        model.Language.Forward(embeds.narrow(1, 0, 10 + r), cache, lastOnly: true);
                        caches.Add(cache);
                    }
                long[] tokens = Enumerable.Range(0, rows).Select(r => (long)(5 + 40 * r)).ToArray();
                long kernelCalls = Bf16Linear.KernelCallsOnThisThread;
                for (int step = 0; step < 6; step++)
                {
                    Tensor a, b;
                    using (SkinnyLinear.For(rows, DeviceType.CPU, ScalarType.Float32, _bf16.Bf16Resident))
                        a = _bf16.Language.DecodeBatch(tokens, caches.Take(rows).ToList());
                    using (SkinnyLinear.For(rows, DeviceType.CPU, ScalarType.Float32, _float32.Bf16Resident))
                        b = _float32.Language.DecodeBatch(tokens, caches.Skip(rows).ToList());
                    double difference = (a - b).abs().max().item<float>();
                    Assert.True(difference <= 1e-5, $"{rows} rows, step {step}: max difference {difference}");
                    Assert.Equal(b.argmax(1).data<long>().ToArray(), a.argmax(1).data<long>().ToArray());
                    tokens = a.argmax(1).data<long>().ToArray();
                }
                Assert.True(Bf16Linear.KernelCallsOnThisThread > kernelCalls, "the decode steps did not run the bf16 kernel");
            }
            finally
            {
                foreach (var cache in caches) cache.Dispose();
            }
        }
    }

    [Fact]
    public void A_one_sequence_decode_step_runs_fused_and_matches_the_tensor_path_while_its_cache_grows()
    {
        using var scope = NewDisposeScope();
        var language = _bf16.Language;
        var embeds = randn([1, 9, _bf16.Config.Text.HiddenSize], generator: new Generator(5));
        using var fused = language.NewCache(10);
        using var unfused = language.NewCache(10);
        language.Forward(embeds, fused, lastOnly: true);
        language.Forward(embeds, unfused, lastOnly: true);
        long token = 3, fusedSteps = language.FusedSteps;
        for (int step = 0; step < 8; step++)   // positions 9..16: both caches grow past their 10 positions
        {
            Tensor a, b;
            using (_bf16.DecodeRegion(1)) a = language.DecodeBatch([token], [fused]);
            language.FusedDecode = false;
            try
            {
                using (_bf16.DecodeRegion(1)) b = language.DecodeBatch([token], [unfused]);
            }
            finally
            {
                language.FusedDecode = true;
            }
            double difference = (a - b).abs().max().item<float>();
            Assert.True(difference <= 1e-5, $"step {step}: max difference {difference}");
            Assert.Equal(b.argmax(1).item<long>(), a.argmax(1).item<long>());
            token = a.argmax(1).item<long>();
        }
        Assert.Equal(fusedSteps + 8, language.FusedSteps);
        Assert.Equal(unfused.Length, fused.Length);

        // An evidence step fuses too, and records the attention the tensor path records.
        using var fusedProbe = new AttentionProbe(0, fused.Length);
        using var unfusedProbe = new AttentionProbe(0, unfused.Length);
        (fused.Probe, unfused.Probe) = (fusedProbe, unfusedProbe);
        using (_bf16.DecodeRegion(1)) language.DecodeBatch([token], [fused]);
        Assert.Equal(fusedSteps + 9, language.FusedSteps);
        language.FusedDecode = false;
        try
        {
            using (_bf16.DecodeRegion(1)) language.DecodeBatch([token], [unfused]);
        }
        finally
        {
            language.FusedDecode = true;
        }
        var recorded = fusedProbe.TakeStep()!;
        var expected = unfusedProbe.TakeStep()!;
        Assert.Equal(expected.Length, recorded.Length);
        Assert.True(expected.Max() - expected.Min() > 1e-3, "the attention is flat: a weak comparison");
        for (int i = 0; i < expected.Length; i++) Assert.True(Math.Abs(expected[i] - recorded[i]) <= 1e-6, $"position {i}: {recorded[i]} vs {expected[i]}");

        // q, k, v and gate, up are held back to back: a layer is 4 kernel calls (qkv, o, gate-up, down), plus the lm_head.
        long calls = Bf16Linear.KernelCallsOnThisThread;
        using (_bf16.DecodeRegion(1)) language.DecodeBatch([token], [fused]);
        Assert.Equal(4 * _bf16.Config.Text.NumHiddenLayers + 1, Bf16Linear.KernelCallsOnThisThread - calls);
    }

    /// <summary>The fixture's prompt ids and its video's VQ encoding.</summary>
    private (int[] Ids, VideoEncoding Encoding) Prompt()
    {
        using var inputs = new SafeTensorsFile(Path.Combine(TestPaths.Fixture(Fixture), "inputs.safetensors"));
        using var scope = NewDisposeScope();
        var projected = _float32.Project(_float32.EncodeVision(inputs.Read("pixel_values")));
        var labels = inputs.Read("labels");
        var codebook = Codebook.FromLabels(projected, labels, (int)labels.max().item<long>() + 1);
        var path = FixtureParity.TokenPathOf(_float32);
        return (FixtureRun.PromptIds(Fixture).Select(i => (int)i).ToArray(), FixtureParity.Encoding(labels, codebook, path));
    }
}
