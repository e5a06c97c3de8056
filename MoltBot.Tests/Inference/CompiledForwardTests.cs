using Microsoft.Extensions.DependencyInjection;
using MoltBot.Contracts.Inference;
using MoltBot.Inference.Engines;
using MoltBot.Inference.Kernels;
using MoltBot.Inference.Models;
using TorchSharp;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace MoltBot.Tests.Inference;

/// <summary>The whole-model TorchScript forward (CompiledForward) against the eager modules it replaces at inference.</summary>
public class CompiledForwardTests(ITestOutputHelper output)
{
    /// <summary>A jit compile error would terminate the process, so the production source is compiled here first.</summary>
    [Fact]
    public void The_compiled_forward_source_compiles()
    {
        using var unit = torch.jit.compile(CompiledForward.Source);
        Assert.NotNull(unit);
    }

    [Theory]
    [InlineData(false, false, 2, false)] // Llama: untied head, GQA
    [InlineData(true, true, 4, false)]   // Qwen2-like: q/k/v biases, tied embeddings, MHA
    [InlineData(false, true, 1, false)]  // multi-query attention
    [InlineData(false, false, 2, true)]  // the same model quantized to int8 (fbgemm)
    [InlineData(true, true, 4, true)]    // int8 with q/k/v biases (folded into the fbgemm call) and a tied FP32 head
    public void Decoder_graph_equals_the_eager_modules_for_prefill_and_a_continuous_batch(bool bias, bool tied, int kvHeads, bool int8)
    {
        var config = TinyModels.Decoder(bias: bias, tied: tied, kvHeads: kvHeads);
        string dir = TinyModels.WriteDecoderFolder(TinyModels.TempDir("graph-lm"), config, seed: 9, int8: int8);
        using var lm = ModelFolder.LoadDecoder(dir, Int8KernelSelector.Select("auto").Kernel);
        AssertDecoderGraphMatchesEager(lm.Model, config, int8 ? 1e-4 : 1e-5);
    }

    [Fact]
    public void Decoder_graph_runs_the_weight_only_int8_fallback_too()
    {
        var config = TinyModels.Decoder();
        string dir = TinyModels.WriteDecoderFolder(TinyModels.TempDir("graph-wo"), config, seed: 10, int8: true);
        using var lm = ModelFolder.LoadDecoder(dir, Int8KernelSelector.Select("weight-only").Kernel);
        AssertDecoderGraphMatchesEager(lm.Model, config, 1e-5);
    }

    [Fact]
    public void A_bf16_decoder_stays_on_the_eager_path()
    {
        var config = TinyModels.Decoder();
        string dir = TinyModels.WriteDecoderFolder(TinyModels.TempDir("graph-bf16"), config, seed: 11);
        using var lm = ModelFolder.ToBf16(ModelFolder.LoadDecoder(dir, Int8KernelSelector.Select("auto").Kernel));
        Assert.False(lm.Model.RunsCompiledGraph);
        using var cache = new KvCache(config, 1, 16);
        using var mode = torch.inference_mode();
        using var scope = NewDisposeScope();
        var logits = lm.Model.ForwardCached(torch.tensor(new long[,] { { 1, 2, 3 } }), cache, [0], [0], lastOnly: true);
        Assert.Equal([1L, 1, config.VocabSize], logits.shape);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Nlu_graph_equals_the_eager_modules_on_a_padded_batch(bool int8)
    {
        var config = TinyModels.Nlu();
        string dir = TinyModels.WriteNluFolder(TinyModels.TempDir("graph-nlu"), config, seed: 12, int8: int8);
        using var nlu = ModelFolder.LoadNlu(dir, Int8KernelSelector.Select("auto").Kernel);
        using var mode = torch.inference_mode();
        using var scope = NewDisposeScope();
        // Rows of 6, 3 and 1 real tokens, right-padded.
        var ids = torch.tensor(new long[,] { { 5, 6, 7, 8, 9, 10 }, { 20, 21, 22, 258, 258, 258 }, { 40, 258, 258, 258, 258, 258 } });
        var mask = torch.tensor(new long[,] { { 1, 1, 1, 1, 1, 1 }, { 1, 1, 1, 0, 0, 0 }, { 1, 0, 0, 0, 0, 0 } });
        nlu.Model.UseCompiledGraph = false;
        using var eager = nlu.Model.Predict(ids, mask);
        nlu.Model.UseCompiledGraph = true;
        Assert.True(nlu.Model.RunsCompiledGraph);
        using var graph = nlu.Model.Predict(ids, mask);
        AssertSameOutput(eager, graph, mask);
    }

    /// <summary>The eager and the compiled forward agree: probabilities and embedding closely, tags exactly on real tokens.</summary>
    internal static void AssertSameOutput(NluBatchOutput eager, NluBatchOutput graph, Tensor mask)
    {
        DecoderLMTests.AssertClose(eager.IntentProbs, graph.IntentProbs, 1e-5);
        DecoderLMTests.AssertClose(eager.Embedding, graph.Embedding, 1e-5);
        Assert.Equal(eager.Tags.shape, graph.Tags.shape);
        // Tags are an argmax: compare them on the real tokens only (padding positions are never decoded).
        var real = mask.to(ScalarType.Bool);
        Assert.True(eager.Tags.masked_select(real).equal(graph.Tags.masked_select(real)).all().item<bool>());
    }

    [Theory]
    [InlineData(null, true)]
    [InlineData("false", false)]
    public async Task Inference_CompiledGraph_picks_the_path_and_both_give_the_same_answers(string? setting, bool graph)
    {
        var settings = new Dictionary<string, string?> { ["Inference:NluPolicy"] = "student" };
        if (setting is not null) settings["Inference:CompiledGraph"] = setting;
        await using var host = await InferenceHost.StartAsync(settings);
        var registry = host.Services.GetRequiredService<ModelRegistry>();
        var set = registry.Acquire();
        try
        {
            Assert.Equal(graph, set.StudentNlu!.Model.RunsCompiledGraph);
            Assert.Equal(graph, set.TeacherNlu!.Model.RunsCompiledGraph);
            Assert.Equal(graph, set.StudentLm!.Model.RunsCompiledGraph);
            Assert.Equal(graph, set.TeacherLm!.Model.RunsCompiledGraph);
            var nlu = host.Services.GetRequiredService<INluEngine>();
            var viaEngine = await nlu.ParseAsync("what is the weather in Paris", CancellationToken.None);
            // The other path on the same loaded model gives the same result.
            set.StudentNlu.Model.UseCompiledGraph = !graph;
            var other = NluEngine.Run(set.StudentNlu, ["what is the weather in Paris"])[0];
            set.StudentNlu.Model.UseCompiledGraph = graph;
            Assert.Equal(other.Intent, viaEngine.Intent);
            Assert.Equal(other.Confidence, viaEngine.Confidence, 4);
        }
        finally
        {
            set.Release();
        }
    }

    private void AssertDecoderGraphMatchesEager(DecoderLM model, DecoderConfig config, double tol)
    {
        using var mode = torch.inference_mode();
        using var scope = NewDisposeScope();
        long[] a = [5, 6, 7, 8, 9, 10], b = [20, 21, 22];
        Tensor Run(bool graph, out Tensor prefillA)
        {
            model.UseCompiledGraph = graph;
            using var cache = new KvCache(config, slots: 3, maxLength: 32);
            // Slots 2 and 0 (not 0 and 1) so the graph's cache row arithmetic is exercised.
            prefillA = model.ForwardCached(torch.tensor(a.Take(5).ToArray()).unsqueeze(0), cache, [2], [0]);
            model.ForwardCached(torch.tensor(b.Take(2).ToArray()).unsqueeze(0), cache, [0], [0], lastOnly: true);
            return model.ForwardCached(torch.tensor(new long[,] { { a[5] }, { b[2] } }), cache, [2, 0], [5, 2], lastOnly: true);
        }
        var eager = Run(false, out var eagerPrefill);
        var graph = Run(true, out var graphPrefill);
        Assert.True(model.RunsCompiledGraph);
        double scale = eager.abs().max().item<float>();
        output.WriteLine($"max |logit| {scale:F3}, prefill err {(eagerPrefill - graphPrefill).abs().max().item<float>():E2}, step err {(eager - graph).abs().max().item<float>():E2}");
        DecoderLMTests.AssertClose(eagerPrefill, graphPrefill, tol * Math.Max(1, scale));
        DecoderLMTests.AssertClose(eager, graph, tol * Math.Max(1, scale));
        Assert.True(eager.argmax(-1).equal(graph.argmax(-1)).all().item<bool>());
    }
}
