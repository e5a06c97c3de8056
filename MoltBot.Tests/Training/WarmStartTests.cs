using MoltBot.Inference.Kernels;
using MoltBot.Inference.Models;
using MoltBot.Inference.Training.Loop;
using MoltBot.Inference.Training.Nlu;
using MoltBot.Inference.Training.Reporting;
using System.Text.Json.Nodes;
using static TorchSharp.torch;

namespace MoltBot.Tests.Training;

/// <summary>
/// `train nlu --init-from DIR`: a run starts from a trained model's weights (the same architecture, labels and
/// tokenizer), and a source that does not fit is refused with a message that names the difference.
/// </summary>
public sealed class WarmStartTests
{
    private static readonly string Corpus = Path.Combine(RepoRoot.Path, "models", "corpus", "nlu", "train.jsonl");
    private static readonly NluArchitecture Tiny = new(Hidden: 16, Layers: 1, Heads: 2, Intermediate: 32, Embedding: 8, MaxPositions: 48);

    private static NluTrainingJob Job(TempDir dir, string train, string outName, double lr, int steps) => new()
    {
        TrainFile = train, OutDir = dir.File(outName), VocabSize = 300, Architecture = Tiny,
        Run = new TrainingRunOptions { Steps = steps, BatchSize = 16, LearningRate = lr, WarmupSteps = 1, EvalEvery = 0, Threads = 1, Seed = 5 },
    };

    /// <summary>Largest absolute difference between same-named parameters of two saved models.</summary>
    private static double MaxDifference(string a, string b)
    {
        using var x = ModelFolder.LoadNlu(a, new WeightOnlyKernel());
        using var y = ModelFolder.LoadNlu(b, new WeightOnlyKernel());
        var other = y.Model.named_parameters().ToDictionary(p => p.name, p => p.parameter);
        double max = 0;
        foreach (var (name, p) in x.Model.named_parameters())
        {
            using var scope = NewDisposeScope();
            max = Math.Max(max, (p - other[name]).abs().max().item<float>());
        }
        return max;
    }

    [Fact]
    public void A_warm_started_run_begins_from_the_source_weights_and_a_fresh_run_does_not()
    {
        using var dir = new TempDir();
        string train = dir.File("train.jsonl");
        File.WriteAllLines(train, File.ReadLines(Corpus).Take(64));
        var source = Job(dir, train, "source", lr: 1e-2, steps: 20);
        Assert.Equal(TrainingOutcome.Completed, NluTrainer.Run(source, null, CancellationToken.None).Outcome);

        // One step at a negligible learning rate: the warm-started weights must still be the source's, while a
        // run from random weights (same seed, same step) ends far from them.
        var warm = Job(dir, train, "warm", lr: 1e-9, steps: 1) with { InitFrom = source.OutDir };
        NluTrainer.Run(warm, null, CancellationToken.None);
        var cold = Job(dir, train, "cold", lr: 1e-9, steps: 1) with { TokenizerDir = source.OutDir };
        NluTrainer.Run(cold, null, CancellationToken.None);

        Assert.True(MaxDifference(source.OutDir, warm.OutDir) < 1e-4, "the warm start did not load the source's weights");
        Assert.True(MaxDifference(source.OutDir, cold.OutDir) > 1e-2, "a fresh run should not match the trained weights");
        Assert.Equal(File.ReadAllText(Path.Combine(source.OutDir, "vocab.json")), File.ReadAllText(Path.Combine(warm.OutDir, "vocab.json")));
        var metrics = JsonNode.Parse(File.ReadAllText(Path.Combine(warm.OutDir, TrainingCurve.MetricsFile)))!;
        Assert.Equal(source.OutDir, (string?)metrics["summary"]!["init_from"]);
    }

    [Fact]
    public void A_source_with_another_architecture_or_tokenizer_is_refused_with_the_difference_named()
    {
        using var dir = new TempDir();
        string train = dir.File("train.jsonl");
        File.WriteAllLines(train, File.ReadLines(Corpus).Take(32));
        var source = Job(dir, train, "source", lr: 1e-2, steps: 2);
        NluTrainer.Run(source, null, CancellationToken.None);

        var wider = Job(dir, train, "wider", lr: 1e-3, steps: 1) with { InitFrom = source.OutDir, Architecture = Tiny with { Hidden = 32 } };
        var shape = Assert.Throws<InvalidDataException>(() => NluTrainer.Run(wider, null, CancellationToken.None));
        Assert.Contains("hidden_size 16 vs 32", shape.Message);

        string otherTokenizer = dir.File("tok");
        Directory.CreateDirectory(otherTokenizer);
        foreach (var f in new[] { "vocab.json", "tokenizer_config.json" }) File.Copy(Path.Combine(source.OutDir, f), Path.Combine(otherTokenizer, f));
        File.WriteAllLines(Path.Combine(otherTokenizer, "merges.txt"), File.ReadAllLines(Path.Combine(source.OutDir, "merges.txt")).SkipLast(1));
        var retokenized = Job(dir, train, "retok", lr: 1e-3, steps: 1) with { InitFrom = source.OutDir, TokenizerDir = otherTokenizer };
        var tok = Assert.Throws<InvalidDataException>(() => NluTrainer.Run(retokenized, null, CancellationToken.None));
        Assert.Contains("merges.txt", tok.Message);

        var missing = Job(dir, train, "missing", lr: 1e-3, steps: 1) with { InitFrom = dir.File("nowhere") };
        Assert.Contains("no config.json", Assert.Throws<InvalidDataException>(() => NluTrainer.Run(missing, null, CancellationToken.None)).Message);
    }
}
