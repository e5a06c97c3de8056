using MoltBot.Inference.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace MoltBot.Tests.Inference;

public class DecoderLMTests
{
    private static readonly int[] Tokens = [3, 17, 256, 42, 99, 5, 128, 7, 250, 1];

    [Theory]
    [InlineData(false, false, 2)] // Llama: untied head, GQA 4 heads / 2 KV heads
    [InlineData(true, true, 4)]   // Qwen2-like: q/k/v biases, tied embeddings, MHA
    [InlineData(false, true, 1)]  // multi-query attention
    public void Logits_match_an_independent_scalar_reference_within_1e_4(bool bias, bool tied, int kvHeads)
    {
        var config = TinyModels.Decoder(bias: bias, tied: tied, kvHeads: kvHeads);
        using var model = TinyModels.RandomDecoder(config, seed: 7);
        var weights = model.named_parameters().ToDictionary(p => p.name, p => (p.parameter.data<float>().ToArray(), p.parameter.shape));
        var reference = new ScalarReferenceDecoder(config, weights).Forward(Tokens);

        using var scope = NewDisposeScope();
        using var _ = torch.inference_mode();
        var logits = model.forward(torch.tensor(Tokens.Select(t => (long)t).ToArray()).unsqueeze(0)); // [1, T, V]
        var actual = logits.data<float>().ToArray();
        double maxErr = 0;
        for (int t = 0; t < Tokens.Length; t++)
            for (int v = 0; v < config.VocabSize; v++)
                maxErr = Math.Max(maxErr, Math.Abs(actual[t * config.VocabSize + v] - reference[t][v]));
        Assert.True(maxErr < 1e-4, $"max |torch - scalar| = {maxErr}");
        Assert.True(reference[^1].Max() - reference[^1].Min() > 0.1, "logits must not be degenerate");
    }

    [Fact]
    public void Parameter_names_are_the_Hugging_Face_tensor_names()
    {
        using var untied = TinyModels.RandomDecoder(TinyModels.Decoder(bias: true, layers: 1));
        var names = untied.named_parameters().Select(p => p.name).ToHashSet();
        string[] expected =
        [
            "model.embed_tokens.weight", "model.norm.weight", "lm_head.weight",
            "model.layers.0.self_attn.q_proj.weight", "model.layers.0.self_attn.q_proj.bias",
            "model.layers.0.self_attn.k_proj.weight", "model.layers.0.self_attn.k_proj.bias",
            "model.layers.0.self_attn.v_proj.weight", "model.layers.0.self_attn.v_proj.bias",
            "model.layers.0.self_attn.o_proj.weight",
            "model.layers.0.mlp.gate_proj.weight", "model.layers.0.mlp.up_proj.weight", "model.layers.0.mlp.down_proj.weight",
            "model.layers.0.input_layernorm.weight", "model.layers.0.post_attention_layernorm.weight",
        ];
        Assert.Equal(expected.Order(), names.Order());
        using var tied = TinyModels.RandomDecoder(TinyModels.Decoder(tied: true, layers: 1));
        Assert.DoesNotContain("lm_head.weight", tied.named_parameters().Select(p => p.name));
        Assert.DoesNotContain("model.layers.0.self_attn.o_proj.bias", tied.named_parameters().Select(p => p.name));
    }

    [Fact]
    public void Incremental_decoding_with_the_KV_cache_equals_full_recomputation()
    {
        var config = TinyModels.Decoder();
        using var model = TinyModels.RandomDecoder(config, seed: 3);
        using var cache = new KvCache(config, slots: 2, maxLength: 32);
        using var _ = torch.inference_mode();
        using var scope = NewDisposeScope();
        var full = model.forward(torch.tensor(Tokens.Select(t => (long)t).ToArray()).unsqueeze(0)); // [1, T, V]
        int slot = cache.TryRent();
        // Prefill 4 tokens, then one token at a time.
        var pre = model.ForwardCached(torch.tensor(Tokens.Take(4).Select(t => (long)t).ToArray()).unsqueeze(0), cache, [slot], [0]);
        AssertClose(full.narrow(1, 0, 4), pre, 1e-5);
        for (int i = 4; i < Tokens.Length; i++)
        {
            var step = model.ForwardCached(torch.tensor(new long[] { Tokens[i] }).unsqueeze(0), cache, [slot], [i], lastOnly: true);
            AssertClose(full.narrow(1, i, 1), step, 1e-5);
        }
        cache.Return(slot);
    }

    [Fact]
    public void A_batch_of_sequences_at_different_positions_equals_each_sequence_alone()
    {
        var config = TinyModels.Decoder();
        using var model = TinyModels.RandomDecoder(config, seed: 4);
        using var cache = new KvCache(config, slots: 3, maxLength: 32);
        using var _ = torch.inference_mode();
        using var scope = NewDisposeScope();
        long[] a = [5, 6, 7, 8, 9, 10], b = [20, 21, 22];
        // Reference: each sequence alone, full recompute.
        var fullA = model.forward(torch.tensor(a).unsqueeze(0));
        var fullB = model.forward(torch.tensor(b).unsqueeze(0));
        int sa = cache.TryRent(), sb = cache.TryRent();
        model.ForwardCached(torch.tensor(a.Take(5).ToArray()).unsqueeze(0), cache, [sa], [0]);
        model.ForwardCached(torch.tensor(b.Take(2).ToArray()).unsqueeze(0), cache, [sb], [0]);
        // One decode step for both rows: A at position 5, B at position 2 (continuous batching).
        var step = model.ForwardCached(torch.tensor(new long[,] { { a[5] }, { b[2] } }), cache, [sa, sb], [5, 2], lastOnly: true);
        AssertClose(fullA.narrow(1, 5, 1), step.narrow(0, 0, 1), 1e-5);
        AssertClose(fullB.narrow(1, 2, 1), step.narrow(0, 1, 1), 1e-5);
    }

    [Fact]
    public void Training_forward_has_gradients_for_every_parameter()
    {
        var config = TinyModels.Decoder(layers: 1);
        using var model = TinyModels.RandomDecoder(config);
        using var scope = NewDisposeScope();
        var tokens = torch.tensor(new long[,] { { 1, 2, 3, 4 }, { 5, 6, 7, 8 } });
        var logits = model.forward(tokens);
        var loss = nn.functional.cross_entropy(logits.narrow(1, 0, 3).reshape(-1, config.VocabSize), tokens.narrow(1, 1, 3).reshape(-1));
        loss.backward();
        foreach (var (name, p) in model.named_parameters())
            Assert.True(p.grad is not null && p.grad.abs().sum().item<float>() > 0, $"no gradient for {name}");
    }

    internal static void AssertClose(Tensor expected, Tensor actual, double tol)
    {
        Assert.Equal(expected.shape, actual.shape);
        double err = (expected - actual).abs().max().item<float>();
        Assert.True(err < tol, $"max abs error {err} ≥ {tol}");
    }
}
