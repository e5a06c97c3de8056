using MoltBot.Inference.Kernels;
using MoltBot.Inference.Models;
using MoltBot.Inference.Tokenization;
using MoltBot.Inference.Training.Corpus;
using MoltBot.Inference.Training.Lm;
using MoltBot.Inference.Training.Loop;
using MoltBot.Inference.Training.Nlu;
using MoltBot.Inference.Training.Quantization;
using MoltBot.Inference.Training.Reporting;
using MoltBot.Inference.Training.Tokenization;
using System.Text.Json.Nodes;

namespace MoltBot.Tests.Training;

/// <summary>
/// The whole pipeline on tiny models and a slice of the real corpus: train (loss falls), distill, quantize to
/// INT8, evaluate; and an LM student distilled from a random Hugging Face–format (qwen2) teacher.
/// </summary>
public sealed class PipelineTests
{
    private static readonly string Corpus = Path.Combine(RepoRoot.Path, "models", "corpus");

    private static TrainingRunOptions Tiny(int steps) => new() { Steps = steps, BatchSize = 16, LearningRate = 3e-3, WarmupSteps = 2, EvalEvery = steps, Threads = 1, Seed = 7 };

    [Fact]
    public void Nlu_train_distill_quantize_evaluate()
    {
        using var dir = new TempDir();
        string train = dir.File("train.jsonl"), dev = dir.File("dev.jsonl");
        File.WriteAllLines(train, File.ReadLines(Path.Combine(Corpus, "nlu", "train.jsonl")).Take(160));
        File.WriteAllLines(dev, File.ReadLines(Path.Combine(Corpus, "nlu", "dev.jsonl")).Take(40));
        string teacherDir = dir.File("teacher"), studentDir = dir.File("student");

        var teacher = NluTrainer.Run(new NluTrainingJob
        {
            TrainFile = train, DevFile = dev, OutDir = teacherDir, VocabSize = 400,
            Architecture = new NluArchitecture(Hidden: 32, Layers: 1, Heads: 2, Intermediate: 64, Embedding: 16, MaxPositions: 48),
            Run = Tiny(40), TokenDropout = 0.1, LabelSmoothing = 0.1, BalanceIntents = true,
        }, null, CancellationToken.None);
        Assert.Equal(TrainingOutcome.Completed, teacher.Outcome);
        var curve = new TrainingCurve("t", "m");
        curve.LoadFrom(teacherDir);
        Assert.True(curve.Points[^1].Loss < curve.Points[0].Loss * 0.8, $"loss did not fall: {curve.Points[0].Loss} → {curve.Points[^1].Loss}");
        Assert.True(File.Exists(Path.Combine(teacherDir, TrainingCurve.PlotFile)));
        Assert.False(Directory.Exists(Path.Combine(teacherDir, TrainerState.Folder)));
        Assert.NotNull(TextTokenizer.Load(teacherDir).SpecialId(BpeTrainerOptions.Pad));

        var student = NluTrainer.Run(new NluTrainingJob
        {
            TrainFile = train, OutDir = studentDir, TeacherDir = teacherDir,
            Architecture = new NluArchitecture(Hidden: 16, Layers: 1, Heads: 2, Intermediate: 32, Embedding: 16, MaxPositions: 48),
            Distillation = new DistillationOptions { Alpha = 0.7, Temperature = 2, HiddenAlignment = 0.5 },
            Run = Tiny(10),
        }, null, CancellationToken.None);
        Assert.True(double.IsFinite(student.FinalLoss));

        var q = ModelQuantizer.Quantize(studentDir, studentDir);
        Assert.True(q.BytesAfter < q.BytesBefore);
        Assert.Equal(ModelFolder.Int8Method, (string?)JsonNode.Parse(File.ReadAllText(Path.Combine(studentDir, "config.json")))!["quantization_config"]!["quant_method"]);
        using var loaded = ModelFolder.LoadNlu(studentDir, new WeightOnlyKernel());
        Assert.Equal("int8", loaded.Precision);
        int seen = 0;
        var report = NluEvaluator.Evaluate(loaded, NluJsonlReader.Read(dev).Examples, "student", threads: 1, onPrediction: (_, _) => seen++);
        Assert.Equal(40, report.N);
        Assert.Equal(40, seen);
        Assert.InRange(report.Accuracy, 0, 1);
        Assert.True(report.LatencyP99Ms >= report.LatencyP50Ms);
    }

    [Fact]
    public void Interrupted_nlu_run_saves_a_checkpoint_and_resumes_to_the_end()
    {
        using var dir = new TempDir();
        string train = dir.File("train.jsonl");
        File.WriteAllLines(train, File.ReadLines(Path.Combine(Corpus, "nlu", "train.jsonl")).Take(48));
        using var cts = new CancellationTokenSource();
        var job = new NluTrainingJob
        {
            TrainFile = train, OutDir = dir.File("m"), VocabSize = 300,
            Architecture = new NluArchitecture(Hidden: 16, Layers: 1, Heads: 2, Intermediate: 32, Embedding: 8, MaxPositions: 48),
            Run = Tiny(12),
        };
        var first = NluTrainer.Run(job, p => { if (p.Step == 5) cts.Cancel(); }, cts.Token);
        Assert.Equal(TrainingOutcome.Interrupted, first.Outcome);
        Assert.Equal(5, first.Step);
        Assert.True(TrainerState.Exists(job.OutDir));
        var second = NluTrainer.Run(job with { Run = job.Run with { Resume = true } }, null, CancellationToken.None);
        Assert.Equal(TrainingOutcome.Completed, second.Outcome);
        Assert.Equal(12, second.Step);
        Assert.False(TrainerState.Exists(job.OutDir));
    }

    [Fact]
    public void Lm_trains_and_distills_from_a_hugging_face_format_teacher()
    {
        using var dir = new TempDir();
        string train = dir.File("dialogs.jsonl");
        File.WriteAllLines(train, File.ReadLines(Path.Combine(Corpus, "dialog", "train.jsonl")).Where((_, i) => i % 240 == 0));
        var dialogs = DialogJsonl.Read(train).Dialogs;

        // Our own teacher from scratch: the loss falls.
        string ours = dir.File("teacher");
        var trained = LmTrainer.Run(new LmTrainingJob
        {
            TrainFile = train, HeldOutFile = train, OutDir = ours, VocabSize = 400, MaxLength = 96, BestDir = dir.File("teacher-best"),
            Architecture = new LmArchitecture(Hidden: 32, Layers: 1, Heads: 2, KvHeads: 2, Intermediate: 64, Tied: true, MaxPositions: 96),
            Run = Tiny(80) with { BatchSize = 8, LearningRate = 1e-2, EvalEvery = 40 },
        }, null, CancellationToken.None);
        // --keep-best: the lowest held-out perplexity of the evaluations (steps 40 and 80) is a loadable model folder.
        var best = System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(Path.Combine(dir.File("teacher-best"), "best.json")))!;
        Assert.Contains(best["step"]!.GetValue<long>(), new long[] { 40, 80 });
        Assert.True(best["heldout_perplexity"]!.GetValue<double>() <= trained.Metrics["heldout_perplexity"] * (1 + 1e-6));
        using (var bestModel = ModelFolder.LoadDecoder(dir.File("teacher-best"), new WeightOnlyKernel()))
            Assert.Equal(DecoderConfig.Load(Path.Combine(ours, "config.json")).HiddenSize, bestModel.Config.HiddenSize);
        var curve = new TrainingCurve("t", "m");
        curve.LoadFrom(ours);
        Assert.True(curve.Points[^1].Loss < curve.Points[0].Loss * 0.8, $"loss did not fall: {curve.Points[0].Loss} → {curve.Points[^1].Loss}");

        // A random HF-format qwen2 teacher (q/k/v biases, grouped-query attention) over the same tokenizer.
        string hf = dir.File("hf-teacher");
        var teacherConfig = new DecoderConfig
        {
            ModelType = "qwen2", VocabSize = NluTrainer.VocabSizeOf(ours), HiddenSize = 32, IntermediateSize = 64, NumHiddenLayers = 2,
            NumAttentionHeads = 4, NumKeyValueHeads = 2, AttentionBias = true, MaxPositionEmbeddings = 96, RmsNormEps = 1e-6,
            EosTokenId = TextTokenizer.Load(ours).SpecialId(BpeTrainerOptions.ImEnd),
        };
        TorchSharp.torch.manual_seed(3);
        using (var random = new DecoderLM(teacherConfig)) ModelFolder.SaveDecoder(hf, random, tokenizerFrom: ours);

        string studentDir = dir.File("student");
        var distilled = LmTrainer.Run(new LmTrainingJob
        {
            TrainFile = train, OutDir = studentDir, TeacherDir = hf, MaxLength = 96,
            Architecture = new LmArchitecture(Hidden: 16, Layers: 1, Heads: 2, KvHeads: 2, Intermediate: 32, Tied: true, MaxPositions: 96),
            Distillation = new DistillationOptions { Alpha = 0.9, Temperature = 2 },
            Run = Tiny(6) with { BatchSize = 8 },
        }, null, CancellationToken.None);
        Assert.Equal(TrainingOutcome.Completed, distilled.Outcome);
        Assert.Equal(teacherConfig.VocabSize, DecoderConfig.Load(Path.Combine(studentDir, "config.json")).VocabSize);

        ModelQuantizer.Quantize(studentDir, studentDir);
        using var t = ModelFolder.LoadDecoder(hf, new WeightOnlyKernel());
        using var s = ModelFolder.LoadDecoder(studentDir, new WeightOnlyKernel());
        Assert.Equal("int8", s.Precision);
        var report = LmEvaluator.Evaluate(t, s, dialogs.Take(4).ToList(), speedPrompts: 2, threads: 1);
        Assert.True(double.IsFinite(report.Teacher.Perplexity) && double.IsFinite(report.Student!.Perplexity));
        Assert.InRange(report.Top1Agreement!.Value, 0, 1);
        Assert.True(report.Student.TokensPerSecond > 0);
    }

    [Fact]
    public void Hidden_alignment_is_rejected_for_decoders_and_bad_student_config_names_the_problem()
    {
        Assert.Throws<ArgumentException>(() => LmTrainer.Run(new LmTrainingJob
        {
            TrainFile = "unused.jsonl", OutDir = "unused", TeacherDir = "t", Distillation = new DistillationOptions { HiddenAlignment = 1 },
        }, null, CancellationToken.None));
        var e = Assert.Throws<InvalidDataException>(() => LmArchitecture.FromJson("{\"hidden_size\": \"wide\"}", new LmArchitecture()));
        Assert.Contains("hidden_size", e.Message);
    }
}
