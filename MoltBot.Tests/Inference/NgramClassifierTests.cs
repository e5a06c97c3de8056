using System.Text.Json.Nodes;
using Microsoft.Extensions.DependencyInjection;
using MoltBot.Contracts.Inference;
using MoltBot.Inference.Kernels;
using MoltBot.Inference.Models;
using MoltBot.Inference.Tokenization;
using MoltBot.Inference.Training.Corpus;
using MoltBot.Inference.Training.Loop;
using MoltBot.Inference.Training.Nlu;
using MoltBot.Inference.Training.Quantization;
using MoltBot.Inference.Training.Reporting;
using TorchSharp;
using static TorchSharp.torch;

namespace MoltBot.Tests.Inference;

/// <summary>
/// The n-gram NLU model (model_type moltbot_nlu_ngram, `train nlu --arch ngram`): its features, training, folder
/// round trip, membership of an ensemble (weighted intent mean; tags from the encoders only) and its errors.
/// </summary>
public sealed class NgramClassifierTests : IDisposable
{
    private readonly string root = TinyModels.TempDir("ngram");

    public void Dispose()
    {
        try { Directory.Delete(root, true); } catch (IOException) { }
    }

    private static NgramClassifierConfig Config(int buckets = 512, int dim = 12) => new()
    {
        NumBuckets = buckets,
        EmbeddingDim = dim,
        VocabSize = 300,
        PadTokenId = 258,
        MaxPositionEmbeddings = 64,
        Intents = TinyModels.Intents,
        BioTags = TinyModels.Nlu().BioTags,
    };

    /// <summary>A random n-gram model folder with the tiny tokenizer (seeded through its own generator).</summary>
    private string WriteNgramFolder(string folder, NgramClassifierConfig config, int seed)
    {
        TinyModels.WriteTokenizer(folder);
        using var model = new NgramClassifier(config, TextTokenizer.Load(folder));
        var gen = new torch.Generator((ulong)seed);
        using (torch.no_grad())
            foreach (var (_, p) in model.named_parameters()) p.normal_(0, 0.5, generator: gen);
        ModelFolder.SaveNgram(folder, model, null);
        return folder;
    }

    private static readonly string[] Texts = ["what is the weather in Paris", "hello there", "明天北京天气", "bye"];

    /// <summary>The texts, tokenized and right-padded with the tiny pad id 258.</summary>
    private static (Tensor Ids, Tensor Mask) Batch(TextTokenizer tokenizer)
    {
        var rows = Texts.Select(t => tokenizer.Encode(t).ToArray()).ToList();
        int width = rows.Max(r => r.Length);
        var ids = new long[rows.Count * width];
        var mask = new long[rows.Count * width];
        for (int r = 0; r < rows.Count; r++)
            for (int c = 0; c < width; c++)
            {
                ids[r * width + c] = c < rows[r].Length ? rows[r][c] : 258;
                mask[r * width + c] = c < rows[r].Length ? 1 : 0;
            }
        return (torch.tensor(ids, [rows.Count, width]), torch.tensor(mask, [rows.Count, width]));
    }

    [Fact]
    public void Features_are_word_uni_and_bigrams_and_char_ngrams_with_cjk_characters_as_words()
    {
        var f = NgramFeatures.Extract("Hi, 你好吗", maxCharNgram: 4);
        Assert.Contains("w:hi", f);                  // lower-cased word
        Assert.Contains("w:,", f);                   // punctuation is a word of its own
        Assert.Contains("w:你", f);                  // every CJK character is a word
        Assert.Contains("b:你 好", f);               // so CJK bigrams are word bigrams
        Assert.Contains("b:hi ,", f);
        Assert.Contains("c:<hi>", f);                // char 4-gram of "<hi>"
        Assert.Contains("c:<你好吗", f);             // char n-grams run across a CJK run
        Assert.Contains("c:好吗>", f);
        Assert.DoesNotContain("c:<", f);             // a lone boundary mark is no feature
        Assert.DoesNotContain(f, x => x.Length > 2 + 4 && x.StartsWith("c:", StringComparison.Ordinal));
        // Fixed hash: the same bucket in every process (not string.GetHashCode).
        Assert.Equal(NgramFeatures.Bucket("w:hi", 16384), NgramFeatures.Bucket("w:hi", 16384));
        Assert.Equal(NgramFeatures.Buckets("Hi, 你好吗", 4, 16384), NgramFeatures.Buckets("hi, 你好吗", 4, 16384));
        Assert.Empty(NgramFeatures.Extract("   ", 4));
    }

    [Fact]
    public void Save_then_load_gives_the_same_outputs_and_no_tags()
    {
        string folder = WriteNgramFolder(Path.Combine(root, "n"), Config(), seed: 3);
        Assert.Equal("nlu", ModelFolder.KindOf(folder));
        var tokenizer = TextTokenizer.Load(folder);
        using var original = new NgramClassifier(Config(), tokenizer);
        using (var reader = MoltBot.Inference.Safetensors.SafetensorsReader.OpenFolder(folder))
        using (torch.no_grad())
            foreach (var (name, p) in original.named_parameters()) reader.CopyTo(name, p);
        using var loaded = ModelFolder.LoadNlu(folder, new WeightOnlyKernel());
        var model = Assert.IsType<NgramClassifier>(loaded.Model);
        Assert.False(model.HasTagHead);
        Assert.Equal(TinyModels.Intents, loaded.Config.Intents);
        using var mode = torch.inference_mode();
        using var scope = NewDisposeScope();
        var (ids, mask) = Batch(tokenizer);
        using var a = original.Predict(ids, mask);
        using var b = model.Predict(ids, mask);
        Assert.True(a.IntentProbs.Same(b.IntentProbs));
        Assert.True(a.Embedding.Same(b.Embedding));
        Assert.Equal(0, b.Tags.count_nonzero().item<long>());                     // every token "O"
        // The rows differ (the features reach the output; a model answering its bias only would not).
        Assert.False(b.IntentProbs[0].allclose(b.IntentProbs[1], rtol: 0, atol: 1e-4));
        // Padding does not change a row: the same text alone gives the same probabilities.
        var alone = torch.tensor(tokenizer.Encode(Texts[1]).Select(i => (long)i).ToArray()).unsqueeze(0);
        using var single = model.Predict(alone, torch.ones_like(alone));
        DecoderLMTests.AssertClose(b.IntentProbs[1].unsqueeze(0), single.IntentProbs, 1e-6);
    }

    [Fact]
    public void Training_an_ngram_model_lowers_the_loss_in_a_few_steps_and_writes_a_loadable_folder()
    {
        string train = Path.Combine(root, "train.jsonl"), dev = Path.Combine(root, "dev.jsonl"), outDir = Path.Combine(root, "run");
        NluEnsembleTests.WriteTinyTrainingData(train);
        NluEnsembleTests.WriteTinyTrainingData(dev);
        string tokenizer = Path.Combine(root, "tok");
        TinyModels.WriteTokenizer(tokenizer);
        var result = NluTrainer.Run(new NluTrainingJob
        {
            TrainFile = train, DevFile = dev, OutDir = outDir, TokenizerDir = tokenizer,
            Ngram = new NgramArchitecture(NumBuckets: 1024, EmbeddingDim: 16),
            Run = new TrainingRunOptions { Steps = 40, BatchSize = 16, LearningRate = 3e-2, WarmupSteps = 2, Threads = 1, Seed = 5, EvalEvery = 20 },
        }, null, CancellationToken.None);
        Assert.Equal(TrainingOutcome.Completed, result.Outcome);
        var curve = new TrainingCurve("t", "m");
        curve.LoadFrom(outDir);
        Assert.True(curve.Points[^1].Loss < curve.Points[0].Loss * 0.5, $"loss did not fall: {curve.Points[0].Loss} → {curve.Points[^1].Loss}");
        // Intent loss only: 4 intents start near ln 4; a tag loss on the constant "O" logits would add ~1e4 per entity token.
        Assert.All(curve.Points, p => Assert.True(p.Loss < 5, $"loss {p.Loss} at step {p.Step}: a tag loss was applied"));
        Assert.True(File.Exists(Path.Combine(outDir, "metrics.json")));
        using var loaded = ModelFolder.LoadNlu(outDir, new WeightOnlyKernel());
        Assert.IsType<NgramClassifier>(loaded.Model);
        // Evaluated alone like any NLU folder: intents learned, no entities predicted.
        var data = NluJsonlReader.Read(dev, MalformedLinePolicy.Fail).Examples;
        var report = NluEvaluator.Evaluate(loaded, data, "ngram", threads: 1);
        Assert.True(report.Accuracy > 0.9, $"dev accuracy {report.Accuracy}");
        Assert.Equal(0, report.EntityRecall);      // the tiny data has location entities; the bag tags none
    }

    [Fact]
    public void Ngram_runs_refuse_a_teacher_and_init_from()
    {
        var job = new NluTrainingJob { TrainFile = "x", OutDir = Path.Combine(root, "r"), Ngram = new NgramArchitecture(), TeacherDir = root };
        Assert.Contains("distillation", Assert.Throws<ArgumentException>(() => NluTrainer.Run(job, null, CancellationToken.None)).Message);
        string a = TinyModels.WriteNluFolder(Path.Combine(root, "a"), TinyModels.Nlu(), seed: 1);
        job = job with { TeacherDir = null, InitFrom = a };
        Assert.Contains("--init-from", Assert.Throws<ArgumentException>(() => NluTrainer.Run(job, null, CancellationToken.None)).Message);
    }

    [Fact]
    public void Ensemble_with_an_ngram_member_weights_the_intents_and_takes_its_tags_from_the_encoder()
    {
        string a = TinyModels.WriteNluFolder(Path.Combine(root, "a"), TinyModels.Nlu(), seed: 41);
        string n = WriteNgramFolder(Path.Combine(root, "n"), Config(), seed: 42);
        string e = Path.Combine(root, "ensemble");
        NluEnsembleFolder.Write(e, [a, n], [1, 2]);
        Assert.Equal(new[] { 1.0, 2.0 }, NluEnsembleFolder.MemberWeights(e));
        using var ensemble = ModelFolder.LoadNlu(e, Int8KernelSelector.Select("auto").Kernel);
        using var encoder = ModelFolder.LoadNlu(a, new WeightOnlyKernel());
        using var ngram = ModelFolder.LoadNlu(n, new WeightOnlyKernel());
        var members = ((NluEnsemble)ensemble.Model).Members;
        Assert.IsType<NluEncoder>(members[0]);
        Assert.IsType<NgramClassifier>(members[1]);
        Assert.True(ensemble.Model.RunsCompiledGraph); // the encoder's graph; the bag is eager

        using var mode = torch.inference_mode();
        using var scope = NewDisposeScope();
        var (ids, mask) = Batch(encoder.Tokenizer);
        using var served = ensemble.Model.Predict(ids, mask);
        using var pa = encoder.Model.Predict(ids, mask);
        using var pn = ngram.Model.Predict(ids, mask);
        DecoderLMTests.AssertClose((pa.IntentProbs + pn.IntentProbs * 2) / 3, served.IntentProbs, 1e-5);
        var real = mask.to(ScalarType.Bool);
        Assert.True(pa.Tags.masked_select(real).equal(served.Tags.masked_select(real)).all().item<bool>());   // the encoder's tags
        Assert.True(pa.Tags.count_nonzero().item<long>() > 0);   // random encoder tags are not all "O", so "O" from the bag would show
        DecoderLMTests.AssertClose(pa.Embedding, served.Embedding, 1e-5);                                      // the encoder's embedding
        Assert.False(pa.IntentProbs.allclose(served.IntentProbs, rtol: 0, atol: 1e-3));                         // the bag had its say

        // Eager forward (distillation from such a teacher): the same weighted mean, tags from the encoder only.
        using var eager = ensemble.Model.forward(ids, mask);
        DecoderLMTests.AssertClose(served.IntentProbs, eager.IntentLogits.softmax(-1), 1e-5);
        using var ea = encoder.Model.forward(ids, mask);
        DecoderLMTests.AssertClose(ea.TagLogits.softmax(-1), eager.TagLogits.softmax(-1), 1e-5);

        // Evaluated as a whole: the entities are the encoder's.
        var examples = Texts.Select(t => new NluExample(t, "en", "weather_query", [])).ToList();
        var aligner = TokenAligner.Load(e);
        foreach (var ex in examples)
            Assert.Equal(NluEvaluator.Predict(encoder, aligner, ex.Text).Entities, NluEvaluator.Predict(ensemble, aligner, ex.Text).Entities);
    }

    [Fact]
    public async Task Engine_serves_an_ensemble_teacher_with_an_ngram_member()
    {
        string models = Path.Combine(root, "models");
        InferenceHost.WriteModels(models);
        string a = TinyModels.WriteNluFolder(Path.Combine(root, "a"), TinyModels.Nlu(), seed: 41);
        string n = WriteNgramFolder(Path.Combine(root, "n"), Config(), seed: 42);
        Directory.Delete(Path.Combine(models, "teacher-nlu"), true);
        NluEnsembleFolder.Write(Path.Combine(models, "teacher-nlu"), [a, n], [1, 2]);
        const string text = "what is the weather in Paris";
        NluResult expected, encoderOnly;
        using (var ensemble = ModelFolder.LoadNlu(Path.Combine(models, "teacher-nlu"), new WeightOnlyKernel()))
        using (var encoder = ModelFolder.LoadNlu(a, new WeightOnlyKernel()))
        {
            expected = MoltBot.Inference.Engines.NluEngine.Run(ensemble, [text])[0];
            encoderOnly = MoltBot.Inference.Engines.NluEngine.Run(encoder, [text])[0];
        }
        Assert.NotEqual(encoderOnly.Confidence, expected.Confidence, 4);          // the n-gram member changed the intent mean
        Assert.Equal(encoderOnly.Entities, expected.Entities);                      // and not the entities

        await using var host = await InferenceHost.StartAsync(new() { ["Inference:NluPolicy"] = "teacher" }, models);
        var r = await host.Services.GetRequiredService<INluEngine>().ParseAsync(text, CancellationToken.None);
        Assert.Equal("teacher-nlu", r.Model);
        Assert.Equal(expected.Intent, r.Intent);
        Assert.Equal(expected.Confidence, r.Confidence, 4);
        Assert.Equal(expected.Entities, r.Entities);
    }

    [Fact]
    public void Ensemble_errors_are_one_clear_line_naming_the_file()
    {
        string a = TinyModels.WriteNluFolder(Path.Combine(root, "a"), TinyModels.Nlu(), seed: 41);
        string n = WriteNgramFolder(Path.Combine(root, "n"), Config(), seed: 42);
        // An n-gram model cannot come first (its embedding and tags would be served).
        var first = Assert.Throws<ModelFormatException>(() => NluEnsembleFolder.Write(Path.Combine(root, "bad"), [n, a]));
        Assert.Contains("first ensemble member must be an encoder", first.Message);
        Assert.Throws<ArgumentException>(() => NluEnsembleFolder.Write(Path.Combine(root, "bad2"), [a, n], [1]));

        string e = Path.Combine(root, "ensemble");
        NluEnsembleFolder.Write(e, [a, n], [1, 0.5]);
        string config = Path.Combine(e, "config.json");
        var good = File.ReadAllText(config);
        foreach (var bad in new[] { "[1]", "[1, -2]", "[1, \"x\"]", "[1, 0]", "\"1,1\"" })
        {
            var json = JsonNode.Parse(good)!;
            json["member_weights"] = JsonNode.Parse(bad);
            File.WriteAllText(config, json.ToJsonString());
            var ex = Assert.Throws<ModelFormatException>(() => ModelFolder.LoadNlu(e, new WeightOnlyKernel()).Dispose());
            Assert.Contains(config, ex.Message);
            Assert.Contains("member_weights", ex.Message);
            Assert.DoesNotContain('\n', ex.Message);
        }
        File.WriteAllText(config, good);

        // Members swapped by hand: the n-gram member first is refused at load too.
        var swapped = JsonNode.Parse(good)!;
        swapped["members"] = new JsonArray("member-1", "member-0");
        File.WriteAllText(config, swapped.ToJsonString());
        Assert.Contains("must be an encoder", Assert.Throws<ModelFormatException>(() => ModelFolder.LoadNlu(e, new WeightOnlyKernel()).Dispose()).Message);
        File.WriteAllText(config, good);

        // Another label set in the n-gram member's config.
        string ngramConfig = Path.Combine(e, "member-1", "config.json");
        var labels = JsonNode.Parse(File.ReadAllText(ngramConfig))!;
        labels["intents"]![0] = "thanks";
        File.WriteAllText(ngramConfig, labels.ToJsonString());
        var mismatch = Assert.Throws<ModelFormatException>(() => ModelFolder.LoadNlu(e, new WeightOnlyKernel()).Dispose());
        Assert.Contains(ngramConfig, mismatch.Message);
        Assert.Contains("'intents'", mismatch.Message);
    }

    [Fact]
    public void Corrupt_missing_or_misconfigured_ngram_files_are_named()
    {
        string n = WriteNgramFolder(Path.Combine(root, "n"), Config(), seed: 7);
        string weights = Path.Combine(n, "model.safetensors"), config = Path.Combine(n, "config.json");
        string good = File.ReadAllText(config);

        // config says more buckets than the file holds
        var json = JsonNode.Parse(good)!;
        json["num_buckets"] = 1000;
        File.WriteAllText(config, json.ToJsonString());
        var shape = Assert.Throws<ModelFormatException>(() => ModelFolder.LoadNlu(n, new WeightOnlyKernel()).Dispose());
        Assert.Contains("ngram_embeddings.weight", shape.Message);
        Assert.Contains(config, shape.Message);

        json["num_buckets"] = 0;
        File.WriteAllText(config, json.ToJsonString());
        var zero = Assert.Throws<ModelFormatException>(() => ModelFolder.LoadNlu(n, new WeightOnlyKernel()).Dispose());
        Assert.Contains(config, zero.Message);
        Assert.Contains("num_buckets", zero.Message);
        File.WriteAllText(config, good);

        var bytes = File.ReadAllBytes(weights);
        File.WriteAllBytes(weights, bytes[..(bytes.Length - 64)]);
        var truncated = Assert.Throws<ModelFormatException>(() => ModelFolder.LoadNlu(n, new WeightOnlyKernel()).Dispose());
        Assert.Contains(weights, truncated.Message);
        File.Delete(weights);
        var missing = Assert.ThrowsAny<Exception>(() => ModelFolder.LoadNlu(n, new WeightOnlyKernel()).Dispose());
        Assert.IsType<ModelFormatException>(missing);
        Assert.Contains(n, missing.Message);

        // quantize says why it does not apply
        string other = WriteNgramFolder(Path.Combine(root, "n2"), Config(), seed: 8);
        var q = Assert.Throws<ModelFormatException>(() => ModelQuantizer.Quantize(other, Path.Combine(root, "q")));
        Assert.Contains("n-gram", q.Message);
    }
}
