using MoltBot.Inference.Kernels;
using MoltBot.Inference.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace MoltBot.Tests.Inference;

public class NluEncoderTests
{
    [Fact]
    public void Heads_have_the_config_label_counts_embedding_is_unit_length_and_padding_does_not_change_results()
    {
        var config = TinyModels.Nlu();
        using var model = TinyModels.RandomNlu(config, seed: 3);
        using var scope = NewDisposeScope();
        using var _ = torch.inference_mode();
        long pad = config.PadTokenId;
        var tokens = torch.tensor(new long[,] { { 5, 6, 7, pad, pad }, { 9, 10, 11, 12, 13 } });
        var mask = tokens.ne(pad).to(ScalarType.Int64);
        using var outB = model.forward(tokens, mask);
        Assert.Equal([2L, config.Intents.Count], outB.IntentLogits.shape);
        Assert.Equal([2L, 5, config.BioTags.Count], outB.TagLogits.shape);
        Assert.Equal([2L, config.EmbeddingSize], outB.Embedding.shape);
        DecoderLMTests.AssertClose(torch.ones(2), outB.Embedding.norm(1), 1e-5);
        // Row 0 alone, without padding, gives the same intent logits and embedding.
        var alone = torch.tensor(new long[,] { { 5, 6, 7 } });
        using var outA = model.forward(alone, torch.ones_like(alone));
        DecoderLMTests.AssertClose(outA.IntentLogits, outB.IntentLogits.narrow(0, 0, 1), 1e-5);
        DecoderLMTests.AssertClose(outA.Embedding, outB.Embedding.narrow(0, 0, 1), 1e-5);
        DecoderLMTests.AssertClose(outA.TagLogits, outB.TagLogits.narrow(0, 0, 1).narrow(1, 0, 3), 1e-5);
    }

    [Fact]
    public void Folder_round_trip_keeps_labels_and_outputs()
    {
        var config = TinyModels.Nlu();
        string dir = TinyModels.WriteNluFolder(TinyModels.TempDir("nlu"), config, seed: 4);
        Assert.Equal("nlu", ModelFolder.KindOf(dir));
        using var loaded = ModelFolder.LoadNlu(dir, new WeightOnlyKernel());
        Assert.Equal(config.Intents, loaded.Config.Intents);
        Assert.Equal(config.BioTags, loaded.Config.BioTags);
        using var original = TinyModels.RandomNlu(config, seed: 4);
        using var scope = NewDisposeScope();
        using var _ = torch.inference_mode();
        var tokens = torch.tensor(new long[,] { { 1, 2, 3 } });
        using var a = original.forward(tokens, torch.ones_like(tokens));
        using var b = loaded.Model.forward(tokens, torch.ones_like(tokens));
        Assert.True(a.IntentLogits.Same(b.IntentLogits));
        Directory.Delete(dir, true);
    }
}
