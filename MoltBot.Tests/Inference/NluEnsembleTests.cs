using System.Text.Json.Nodes;
using Microsoft.Extensions.DependencyInjection;
using MoltBot.Contracts.Configuration;
using MoltBot.Contracts.Inference;
using MoltBot.Inference.Kernels;
using MoltBot.Inference.Models;
using MoltBot.Inference.Training.Loop;
using MoltBot.Inference.Training.Nlu;
using MoltBot.Inference.Training.Quantization;
using MoltBot.Inference.Training.Reporting;
using TorchSharp;
using static TorchSharp.torch;

namespace MoltBot.Tests.Inference;

/// <summary>
/// NLU ensembles (model_type moltbot_nlu_ensemble): the mean of the members' probabilities on the served (compiled)
/// and eager paths, served by the engine, distilled from, refused by quantize, and broken members named in one line.
/// </summary>
public sealed class NluEnsembleTests : IDisposable
{
    private readonly string root = TinyModels.TempDir("ensemble");

    public void Dispose()
    {
        try { Directory.Delete(root, true); } catch (IOException) { }
    }

    /// <summary>Two members of different widths (32 and 48) with one tokenizer and label set, and their ensemble.</summary>
    private (string A, string B, string Ensemble) WriteEnsemble()
    {
        string a = TinyModels.WriteNluFolder(Path.Combine(root, "a"), TinyModels.Nlu(), seed: 31);
        string b = TinyModels.WriteNluFolder(Path.Combine(root, "b"), TinyModels.Nlu() with { HiddenSize = 48, IntermediateSize = 96, NumHiddenLayers = 1 }, seed: 32);
        string e = Path.Combine(root, "ensemble");
        NluEnsembleFolder.Write(e, [a, b]);
        return (a, b, e);
    }

    // Rows of 6, 3 and 1 real tokens, right-padded with the tiny config's pad id 258.
    private static (Tensor Ids, Tensor Mask) Batch() =>
        (torch.tensor(new long[,] { { 5, 6, 7, 8, 9, 10 }, { 20, 21, 22, 258, 258, 258 }, { 40, 258, 258, 258, 258, 258 } }),
         torch.tensor(new long[,] { { 1, 1, 1, 1, 1, 1 }, { 1, 1, 1, 0, 0, 0 }, { 1, 0, 0, 0, 0, 0 } }));

    [Fact]
    public void Ensemble_output_is_the_mean_of_its_members_run_alone()
    {
        var (a, b, e) = WriteEnsemble();
        Assert.Equal("nlu", ModelFolder.KindOf(e));
        Assert.Equal(File.ReadAllBytes(Path.Combine(b, "model.safetensors")), File.ReadAllBytes(Path.Combine(e, "member-1", "model.safetensors")));
        using var ensemble = ModelFolder.LoadNlu(e, new WeightOnlyKernel());
        using var alone1 = ModelFolder.LoadNlu(a, new WeightOnlyKernel());
        using var alone2 = ModelFolder.LoadNlu(b, new WeightOnlyKernel());
        Assert.IsType<NluEnsemble>(ensemble.Model);
        Assert.Equal(2, ((NluEnsemble)ensemble.Model).Members.Count);
        Assert.True(ensemble.Model.RunsCompiledGraph);
        using var mode = torch.inference_mode();
        using var scope = NewDisposeScope();
        var (ids, mask) = Batch();

        using var served = ensemble.Model.Predict(ids, mask);
        using var o1 = alone1.Model.forward(ids, mask);
        using var o2 = alone2.Model.forward(ids, mask);
        var meanIntent = (o1.IntentLogits.softmax(-1) + o2.IntentLogits.softmax(-1)) / 2;     // [B, I]
        var meanTags = (o1.TagLogits.softmax(-1) + o2.TagLogits.softmax(-1)) / 2;             // [B, T, G]
        DecoderLMTests.AssertClose(meanIntent, served.IntentProbs, 1e-5);
        DecoderLMTests.AssertClose(o1.Embedding, served.Embedding, 1e-5);                      // the first member's
        var real = mask.to(ScalarType.Bool);
        Assert.True(meanTags.argmax(-1).masked_select(real).equal(served.Tags.masked_select(real)).all().item<bool>());
        // The members disagree, so the mean is neither of them (the check above could fail).
        Assert.False(o1.IntentLogits.softmax(-1).allclose(served.IntentProbs, rtol: 0, atol: 1e-3));
        Assert.False(o2.IntentLogits.softmax(-1).allclose(served.IntentProbs, rtol: 0, atol: 1e-3));

        // Eager forward (training/distillation): logits whose softmax is the mean probability.
        using var eager = ensemble.Model.forward(ids, mask);
        DecoderLMTests.AssertClose(meanIntent, eager.IntentLogits.softmax(-1), 1e-5);
        DecoderLMTests.AssertClose(meanTags, eager.TagLogits.softmax(-1), 1e-5);
    }

    [Fact]
    public void Served_compiled_path_equals_the_eager_path()
    {
        var (_, _, e) = WriteEnsemble();
        using var nlu = ModelFolder.LoadNlu(e, Int8KernelSelector.Select("auto").Kernel);
        using var mode = torch.inference_mode();
        using var scope = NewDisposeScope();
        var (ids, mask) = Batch();
        nlu.Model.UseCompiledGraph = false;
        Assert.False(nlu.Model.RunsCompiledGraph);
        using var eager = nlu.Model.Predict(ids, mask);
        nlu.Model.UseCompiledGraph = true;
        Assert.True(nlu.Model.RunsCompiledGraph);
        using var graph = nlu.Model.Predict(ids, mask);
        CompiledForwardTests.AssertSameOutput(eager, graph, mask);
    }

    [Fact]
    public async Task Engine_serves_an_ensemble_teacher_from_the_models_folder()
    {
        string models = Path.Combine(root, "models");
        InferenceHost.WriteModels(models);
        var (a, b, _) = WriteEnsemble();
        Directory.Delete(Path.Combine(models, "teacher-nlu"), true);
        NluEnsembleFolder.Write(Path.Combine(models, "teacher-nlu"), [a, b]);
        using var alone = ModelFolder.LoadNlu(a, new WeightOnlyKernel());
        using var ensemble = ModelFolder.LoadNlu(Path.Combine(models, "teacher-nlu"), new WeightOnlyKernel());
        var expected = NluEngineRun(ensemble, "what is the weather in Paris");
        Assert.NotEqual(NluEngineRun(alone, "what is the weather in Paris").Confidence, expected.Confidence, 4);

        await using var host = await InferenceHost.StartAsync(new() { ["Inference:NluPolicy"] = "teacher" }, models);
        var r = await host.Services.GetRequiredService<INluEngine>().ParseAsync("what is the weather in Paris", CancellationToken.None);
        Assert.Equal("teacher-nlu", r.Model);
        Assert.Equal(expected.Intent, r.Intent);
        Assert.Equal(expected.Confidence, r.Confidence, 4);
    }

    private static NluResult NluEngineRun(LoadedNlu nlu, string text) => MoltBot.Inference.Engines.NluEngine.Run(nlu, [text])[0];

    [Fact]
    public void Distilling_a_student_from_a_tiny_ensemble_runs_and_the_loss_falls()
    {
        var (_, _, e) = WriteEnsemble();
        string train = Path.Combine(root, "train.jsonl"), student = Path.Combine(root, "student");
        WriteTinyTrainingData(train);
        var result = NluTrainer.Run(new NluTrainingJob
        {
            TrainFile = train, OutDir = student, TeacherDir = e,
            Architecture = new NluArchitecture(Hidden: 16, Layers: 1, Heads: 2, Intermediate: 32, Embedding: 16, MaxPositions: 64),
            Distillation = new DistillationOptions { Alpha = 0.7, Temperature = 2, HiddenAlignment = 0.5 },
            Run = new TrainingRunOptions { Steps = 80, BatchSize = 16, LearningRate = 1e-2, WarmupSteps = 2, Threads = 1, Seed = 7 },
        }, null, CancellationToken.None);
        Assert.Equal(TrainingOutcome.Completed, result.Outcome);
        var curve = new TrainingCurve("t", "m");
        curve.LoadFrom(student);
        // The soft targets come from random members that disagree with the labels, so the loss has a floor well above 0:
        // a 10% fall over the run (seeded, 1 thread: deterministic) shows the student learning from the ensemble.
        Assert.True(curve.Points[^1].Loss < curve.Points[0].Loss * 0.9, $"loss did not fall: {curve.Points[0].Loss} → {curve.Points[^1].Loss}");
        using var loaded = ModelFolder.LoadNlu(student, new WeightOnlyKernel());
        Assert.IsType<NluEncoder>(loaded.Model); // the student is one encoder with the ensemble's labels
        Assert.Equal(TinyModels.Intents, loaded.Config.Intents);
    }

    /// <summary>Utterances with only the tiny models' labels (4 intents, location entities), a few times over.</summary>
    internal static void WriteTinyTrainingData(string file)
    {
        (string Intent, string Text, string? City)[] rows =
        [
            ("greet", "hello there", null), ("greet", "hi, good morning", null), ("greet", "hey you", null),
            ("goodbye", "bye for now", null), ("goodbye", "see you later", null), ("goodbye", "talk to you tomorrow", null),
            ("weather_query", "weather in Paris", "Paris"), ("weather_query", "is it raining in Berlin", "Berlin"),
            ("weather_query", "forecast for Tokyo please", "Tokyo"), ("smalltalk", "how are you", null),
            ("smalltalk", "tell me a joke", null), ("smalltalk", "you are funny", null),
        ];
        var lines = new List<string>();
        for (int copy = 0; copy < 6; copy++)
        {
            foreach (var (intent, text, city) in rows)
            {
                var entities = new JsonArray();
                if (city is not null)
                {
                    int start = text.IndexOf(city, StringComparison.Ordinal);
                    entities.Add(new JsonObject { ["type"] = "location", ["value"] = city, ["start"] = start, ["end"] = start + city.Length });
                }
                lines.Add(new JsonObject { ["text"] = text, ["lang"] = "en", ["intent"] = intent, ["entities"] = entities }.ToJsonString());
            }
        }
        File.WriteAllLines(file, lines);
    }

    [Fact]
    public void Quantize_refuses_an_ensemble_and_says_what_to_do()
    {
        var (_, _, e) = WriteEnsemble();
        var ex = Assert.Throws<ModelFormatException>(() => ModelQuantizer.Quantize(e, e));
        Assert.Contains("ensemble", ex.Message);
        Assert.Contains("distill", ex.Message);
        Assert.Null(JsonNode.Parse(File.ReadAllText(Path.Combine(e, "member-0", "config.json")))!["quantization_config"]);
    }

    [Fact]
    public void Warm_start_refuses_an_ensemble_and_its_shared_config_is_the_first_members()
    {
        var (a, _, e) = WriteEnsemble();
        using var model = TinyModels.RandomNlu(TinyModels.Nlu(), seed: 33);
        string outDir = Path.Combine(root, "warm");
        Directory.CreateDirectory(outDir);
        var ex = Assert.Throws<InvalidDataException>(() => WarmStart.CopyInto(model, e, outDir));
        Assert.Contains("ensemble", ex.Message);
        // What the engine reads before any model is loaded (NluEngine.Dimension): the members' shared config.
        var shared = ModelFolder.NluConfigOf(e);
        Assert.Equal(NluEncoderConfig.Load(Path.Combine(a, "config.json")).Intents, shared.Intents);
        Assert.Equal(32, shared.HiddenSize); // member-0's (member-1 is 48 wide)
        Assert.Equal(16, shared.EmbeddingSize);
    }

    [Fact]
    public void Member_with_another_tokenizer_is_refused_naming_its_file()
    {
        var (_, _, e) = WriteEnsemble();
        string vocab = Path.Combine(e, "member-1", "vocab.json");
        File.AppendAllText(vocab, " "); // still valid JSON, other bytes
        var ex = Assert.Throws<ModelFormatException>(() => ModelFolder.LoadNlu(e, new WeightOnlyKernel()).Dispose());
        Assert.Contains(vocab, ex.Message);
        Assert.Contains("share one tokenizer", ex.Message);
        Assert.DoesNotContain('\n', ex.Message);
    }

    [Fact]
    public void Member_with_another_label_set_is_refused_naming_its_config()
    {
        var (_, _, e) = WriteEnsemble();
        string config = Path.Combine(e, "member-1", "config.json");
        var json = JsonNode.Parse(File.ReadAllText(config))!;
        json["intents"]![0] = "thanks";
        File.WriteAllText(config, json.ToJsonString());
        var ex = Assert.Throws<ModelFormatException>(() => ModelFolder.LoadNlu(e, new WeightOnlyKernel()).Dispose());
        Assert.Contains(config, ex.Message);
        Assert.Contains("'intents'", ex.Message);
    }

    [Fact]
    public void Truncated_or_missing_member_weights_are_named()
    {
        var (_, _, e) = WriteEnsemble();
        string weights = Path.Combine(e, "member-1", "model.safetensors");
        var bytes = File.ReadAllBytes(weights);
        File.WriteAllBytes(weights, bytes[..(bytes.Length - 100)]);
        var truncated = Assert.Throws<ModelFormatException>(() => ModelFolder.LoadNlu(e, new WeightOnlyKernel()).Dispose());
        Assert.Contains(weights, truncated.Message);
        File.Delete(weights);
        var missing = Assert.ThrowsAny<Exception>(() => ModelFolder.LoadNlu(e, new WeightOnlyKernel()).Dispose());
        Assert.IsType<ModelFormatException>(missing);
        Assert.Contains(Path.Combine(e, "member-1"), missing.Message);
        Directory.Delete(Path.Combine(e, "member-1"), true);
        var gone = Assert.Throws<ModelFormatException>(() => ModelFolder.LoadNlu(e, new WeightOnlyKernel()).Dispose());
        Assert.Contains(Path.Combine(e, "member-1"), gone.Message);
    }

    [Fact]
    public async Task Broken_member_stops_start_up_with_one_clear_line()
    {
        string models = Path.Combine(root, "models");
        InferenceHost.WriteModels(models);
        var (a, b, _) = WriteEnsemble();
        Directory.Delete(Path.Combine(models, "teacher-nlu"), true);
        NluEnsembleFolder.Write(Path.Combine(models, "teacher-nlu"), [a, b]);
        string weights = Path.Combine(models, "teacher-nlu", "member-1", "model.safetensors");
        File.WriteAllBytes(weights, File.ReadAllBytes(weights)[..20]);
        var ex = await Assert.ThrowsAsync<StartupException>(() => InferenceHost.StartAsync(models: models));
        Assert.Contains(weights, ex.Message);
        Assert.DoesNotContain('\n', ex.Message);
    }

    [Fact]
    public void Ensemble_config_errors_name_the_config_file()
    {
        var (_, _, e) = WriteEnsemble();
        string config = Path.Combine(e, "config.json");
        File.WriteAllText(config, """{"model_type": "moltbot_nlu_ensemble", "members": ["../a"]}""");
        var ex = Assert.Throws<ModelFormatException>(() => ModelFolder.LoadNlu(e, new WeightOnlyKernel()).Dispose());
        Assert.Contains(config, ex.Message);
        File.WriteAllText(config, """{"model_type": "moltbot_nlu_ensemble", "members": []}""");
        Assert.Contains("no member", Assert.Throws<ModelFormatException>(() => ModelFolder.LoadNlu(e, new WeightOnlyKernel()).Dispose()).Message);
    }
}
