using System.Text.Json.Nodes;
using MoltBot.Cli;
using MoltBot.Inference.Kernels;
using MoltBot.Inference.Models;
using MoltBot.Tests.Inference;

namespace MoltBot.Tests.Training;

/// <summary>`train nlu --arch ngram` and `ensemble nlu --weights` through the real command line.</summary>
public sealed class NgramCliTests
{
    [Fact]
    public async Task Train_nlu_arch_ngram_then_ensemble_it_with_weights_after_an_encoder()
    {
        using var dir = new TempDir();
        string data = dir.File("train.jsonl"), tok = dir.File("tok"), run = dir.File("ngram"), encoder = dir.File("enc"), ens = dir.File("ens");
        NluEnsembleTests.WriteTinyTrainingData(data);
        TinyModels.WriteTokenizer(tok);
        int code = await CliApp.InvokeAsync(["train", "nlu", "--arch", "ngram", "--data", data, "--dev", data, "--tokenizer", tok, "--out", run,
            "--config", """{"num_buckets": 256, "embedding_dim": 8}""", "--steps", "12", "--eval-every", "6", "--batch-size", "8", "--threads", "1",
            "--lr", "3e-2", "--warmup", "2", "--tokenizer-text", ""]);
        Assert.Equal(0, code);
        var config = JsonNode.Parse(File.ReadAllText(Path.Combine(run, "config.json")))!;
        Assert.Equal("moltbot_nlu_ngram", (string?)config["model_type"]);
        Assert.Equal(256, (int)config["num_buckets"]!);
        Assert.True(File.Exists(Path.Combine(run, "metrics.json")));

        // An encoder key in --config for an n-gram run is refused, not ignored.
        Assert.NotEqual(0, await CliApp.InvokeAsync(["train", "nlu", "--arch", "ngram", "--data", data, "--dev", "", "--tokenizer", tok,
            "--out", dir.File("bad"), "--config", """{"hidden_size": 64}""", "--steps", "2", "--threads", "1", "--tokenizer-text", ""]));
        Assert.NotEqual(0, await CliApp.InvokeAsync(["train", "nlu", "--arch", "lstm", "--data", data, "--out", dir.File("bad2")]));

        // The tiny tokenizer's labels are the corpus's (the trainer's): an encoder with them joins the n-gram model.
        var labels = MoltBot.Contracts.Inference.Intents.All;
        TinyModels.WriteNluFolder(encoder, TinyModels.Nlu() with
        {
            VocabSize = (int)config["vocab_size"]!, PadTokenId = (int)config["pad_token_id"]!, Intents = labels,
            BioTags = config["bio_tags"]!.AsArray().Select(n => (string)n!).ToList(), MaxPositionEmbeddings = 96,
        }, seed: 5);
        Assert.NotEqual(0, await CliApp.InvokeAsync(["ensemble", "nlu", "--out", ens, "--weights", "1,abc", encoder, run]));
        Assert.NotEqual(0, await CliApp.InvokeAsync(["ensemble", "nlu", "--out", ens, "--weights", "1", encoder, run]));
        Assert.NotEqual(0, await CliApp.InvokeAsync(["ensemble", "nlu", "--out", ens, run, encoder]));   // n-gram first
        Assert.Equal(0, await CliApp.InvokeAsync(["ensemble", "nlu", "--out", ens, "--weights", "1,0.5", encoder, run]));
        Assert.Equal(new[] { 1.0, 0.5 }, NluEnsembleFolder.MemberWeights(ens));
        using var loaded = ModelFolder.LoadNlu(ens, new WeightOnlyKernel());
        Assert.IsType<NgramClassifier>(((NluEnsemble)loaded.Model).Members[1]);
    }
}
