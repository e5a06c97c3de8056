using System.Text.Json.Nodes;
using MoltBot.Inference.Kernels;
using MoltBot.Inference.Models;
using MoltBot.Inference.Training.Corpus;
using MoltBot.Inference.Training.Loop;
using MoltBot.Inference.Training.Nlu;
using MoltBot.Inference.Training.Reporting;
using MoltBot.Inference.Tokenization;
using static TorchSharp.torch;

namespace MoltBot.Tests.Training;

/// <summary>
/// `pretrain nlu`: masked-LM pre-training of the NLU encoder on training text only; its output warm-starts
/// `train nlu --init-from` (encoder copied, heads fresh); held-out files are refused or excluded; bad input is named.
/// </summary>
public sealed class MlmPretrainingTests
{
    private static readonly string NluTrain = Path.Combine(RepoRoot.Path, "models", "corpus", "nlu", "train.jsonl");
    private static readonly string DialogTrain = Path.Combine(RepoRoot.Path, "models", "corpus", "dialog", "train.jsonl");
    private static readonly string Tokenizer = Path.Combine(RepoRoot.Path, "models", "teacher-nlu");
    private static readonly NluArchitecture Tiny = new(Hidden: 16, Layers: 1, Heads: 2, Intermediate: 32, Embedding: 8, MaxPositions: 48);

    private static string Sample(TempDir dir, string name, string source, int lines)
    {
        string file = dir.File(name);
        File.WriteAllLines(file, File.ReadLines(source).Take(lines));
        return file;
    }

    private static MlmPretrainingJob Job(TempDir dir, string outName, IReadOnlyList<string> text, int steps, double lr = 1e-2) => new()
    {
        TextFiles = text, OutDir = dir.File(outName), TokenizerDir = Tokenizer, Architecture = Tiny,
        Run = new TrainingRunOptions { Steps = steps, BatchSize = 16, LearningRate = lr, WarmupSteps = 1, EvalEvery = 0, Threads = 1, Seed = 3 },
    };

    private static Dictionary<string, float[]> Weights(string folder)
    {
        using var m = ModelFolder.LoadNlu(folder, new WeightOnlyKernel());
        return m.Model.named_parameters().ToDictionary(p => p.name, p => p.parameter.data<float>().ToArray());
    }

    private static double MaxDifference(float[] a, float[] b) => a.Zip(b, (x, y) => (double)Math.Abs(x - y)).Max();

    [Fact]
    public void The_masked_token_loss_falls_and_the_folder_has_metrics_a_curve_and_the_marker()
    {
        using var dir = new TempDir();
        var text = new[] { Sample(dir, "nlu.jsonl", NluTrain, 300), Sample(dir, "dialog.jsonl", DialogTrain, 40) };
        var job = Job(dir, "pre", text, steps: 60);
        var result = MlmPretrainer.Run(job, null, CancellationToken.None);

        Assert.Equal(TrainingOutcome.Completed, result.Outcome);
        var metrics = JsonNode.Parse(File.ReadAllText(Path.Combine(job.OutDir, TrainingCurve.MetricsFile)))!;
        var losses = metrics["points"]!.AsArray().Select(p => (double)p!["loss"]!).ToList();
        Assert.True(losses.Count >= 5, "the curve should log every 10 steps");
        double first = losses.Take(2).Average(), last = losses.TakeLast(2).Average();
        Assert.True(last < first - 0.4, $"masked-token loss should fall: {first:F3} → {last:F3}");
        Assert.True(File.Exists(Path.Combine(job.OutDir, TrainingCurve.PlotFile)));
        Assert.True(MlmPretrainer.IsPretrained(job.OutDir));
        Assert.False(TrainerState.Exists(job.OutDir), "a completed run leaves no checkpoint state");
    }

    [Fact]
    public void Train_nlu_init_from_a_pretrained_folder_takes_the_encoder_and_starts_the_heads_fresh()
    {
        using var dir = new TempDir();
        var pre = Job(dir, "pre", [Sample(dir, "nlu.jsonl", NluTrain, 200)], steps: 20);
        MlmPretrainer.Run(pre, null, CancellationToken.None);

        // One step at a negligible learning rate: the encoder must still be the pre-trained one, the heads must not.
        var fine = new NluTrainingJob
        {
            TrainFile = Sample(dir, "train.jsonl", NluTrain, 64), OutDir = dir.File("fine"), Architecture = Tiny, InitFrom = pre.OutDir,
            Run = new TrainingRunOptions { Steps = 1, BatchSize = 16, LearningRate = 1e-9, WarmupSteps = 1, EvalEvery = 0, Threads = 1, Seed = 5 },
        };
        Assert.Equal(TrainingOutcome.Completed, NluTrainer.Run(fine, null, CancellationToken.None).Outcome);

        var a = Weights(pre.OutDir);
        var b = Weights(fine.OutDir);
        foreach (var name in a.Keys.Where(n => n.StartsWith("encoder.", StringComparison.Ordinal)))
            Assert.True(MaxDifference(a[name], b[name]) < 1e-4, $"{name} was not taken from the pre-trained encoder");
        foreach (var head in new[] { "intent_head.weight", "tag_head.weight", "pooler.weight" })
            Assert.True(MaxDifference(a[head], b[head]) > 1e-3, $"{head} should start fresh, not from the pre-trained folder");
        Assert.False(MlmPretrainer.IsPretrained(fine.OutDir), "a fine-tuned folder is no longer a pre-training folder");
    }

    [Fact]
    public void Held_out_files_are_refused_and_excluded_sentences_never_reach_the_text()
    {
        using var dir = new TempDir();
        var lines = File.ReadLines(NluTrain).Take(40).ToList();
        string train = dir.File("train.jsonl");
        File.WriteAllLines(train, lines);
        string held = dir.File("other.jsonl");
        File.WriteAllLines(held, lines.Take(10));
        var heldTexts = NluJsonlReader.Read(held).Examples.Select(e => e.Text.Trim().ToLowerInvariant()).ToHashSet();

        var set = MlmText.Build([train], [held], MalformedLinePolicy.Fail);
        Assert.DoesNotContain(set.Texts, t => heldTexts.Contains(t.ToLowerInvariant()));
        Assert.True(set.Excluded >= 10, $"the 10 held-out lines should be excluded, were {set.Excluded}");
        Assert.NotEmpty(set.Texts);

        foreach (var name in new[] { "dev.jsonl", "test.jsonl", "heldout.jsonl" })
        {
            string f = dir.File(name);
            File.WriteAllLines(f, lines.Take(3));
            var e = Assert.Throws<InvalidDataException>(() => MlmText.Build([train, f], [], MalformedLinePolicy.Fail));
            Assert.Contains("held-out", e.Message);
        }
        // A file also given as --exclude cannot be learned from.
        Assert.Throws<InvalidDataException>(() => MlmText.Build([held], [held], MalformedLinePolicy.Fail));
    }

    [Fact]
    public void Bad_input_gets_an_error_that_names_the_file_and_line_or_is_skipped_and_reported()
    {
        using var dir = new TempDir();
        string bad = dir.File("bad.jsonl");
        var lines = File.ReadLines(NluTrain).Take(5).ToList();
        lines.Insert(2, "{\"text\": \"broken");
        File.WriteAllLines(bad, lines);
        var fail = Assert.Throws<NluDataException>(() => MlmText.Build([bad], [], MalformedLinePolicy.Fail));
        Assert.Contains("bad.jsonl:3", fail.Message);
        var skipped = MlmText.Build([bad], [], MalformedLinePolicy.Skip);
        Assert.Single(skipped.Skipped);
        Assert.Equal(3, skipped.Skipped[0].Line);
        Assert.Equal(5, skipped.Texts.Count);

        string plain = dir.File("plain.jsonl");
        File.WriteAllLines(plain, ["not json at all"]);
        Assert.Contains("NLU or dialog JSONL", Assert.Throws<InvalidDataException>(() => MlmText.Build([plain], [], MalformedLinePolicy.Fail)).Message);
        Assert.Throws<FileNotFoundException>(() => MlmText.Build([dir.File("missing.jsonl")], [], MalformedLinePolicy.Fail));

        var noTokenizer = Job(dir, "pre", [Sample(dir, "nlu.jsonl", NluTrain, 20)], steps: 1) with { TokenizerDir = dir.Path };
        Assert.Contains("vocab.json", Assert.Throws<FileNotFoundException>(() => MlmPretrainer.Run(noTokenizer, null, CancellationToken.None)).Message);
        var badRate = Job(dir, "pre2", [Sample(dir, "nlu2.jsonl", NluTrain, 20)], steps: 1) with { MaskRate = 1.5 };
        Assert.Contains("--mask-rate", Assert.Throws<ArgumentException>(() => MlmPretrainer.Run(badRate, null, CancellationToken.None)).Message);
    }

    [Fact]
    public void Ctrl_c_saves_a_checkpoint_that_resumes_to_completion()
    {
        using var dir = new TempDir();
        var job = Job(dir, "pre", [Sample(dir, "nlu.jsonl", NluTrain, 100)], steps: 12);
        using var cts = new CancellationTokenSource();
        var stopped = MlmPretrainer.Run(job, p => { if (p.Step == 5) cts.Cancel(); }, cts.Token);
        Assert.Equal(TrainingOutcome.Interrupted, stopped.Outcome);
        Assert.Equal(5, stopped.Step);
        Assert.True(TrainerState.Exists(job.OutDir));

        var resumed = MlmPretrainer.Run(job with { Run = job.Run with { Resume = true } }, null, CancellationToken.None);
        Assert.Equal(TrainingOutcome.Completed, resumed.Outcome);
        Assert.Equal(12, resumed.Step);
    }

    [Fact]
    public void Masking_takes_whole_words_at_the_rate_and_splits_80_10_10()
    {
        var tokenizer = TextTokenizer.Load(Tokenizer);
        var aligner = TokenAligner.Load(Tokenizer);
        // Every CJK character is a word of its own; a space-led run of letters is one word.
        var zh = MlmPretrainer.Encode("提醒我明天开会", tokenizer, aligner, 96);
        Assert.Equal(7, zh.Words[^1] + 1);
        var en = MlmPretrainer.Encode("please remindify me tomorrow", tokenizer, aligner, 96);
        Assert.Equal(4, en.Words[^1] + 1);

        var rng = new Random(1);
        int maskId = 2794, targets = 0, masked = 0, kept = 0, total = 0;
        var randomIds = Enumerable.Range(0, 256).ToArray();
        for (int i = 0; i < 2000; i++)
        {
            var (input, target) = MlmMasking.Mask(en, 0.15, maskId, randomIds, rng);
            var wordsHit = Enumerable.Range(0, en.Ids.Length).Where(t => target[t] != MlmMasking.Ignore).Select(t => en.Words[t]).ToHashSet();
            foreach (int w in wordsHit) // a chosen word is chosen whole
                Assert.All(Enumerable.Range(0, en.Ids.Length).Where(t => en.Words[t] == w), t => Assert.Equal(en.Ids[t], target[t]));
            Assert.NotEmpty(wordsHit);
            for (int t = 0; t < en.Ids.Length; t++)
            {
                total++;
                if (target[t] == MlmMasking.Ignore) { Assert.Equal(en.Ids[t], input[t]); continue; }
                targets++;
                if (input[t] == maskId) masked++;
                else if (input[t] == en.Ids[t]) kept++;
            }
        }
        Assert.InRange(masked / (double)targets, 0.75, 0.85);
        Assert.InRange(kept / (double)targets, 0.07, 0.14);
    }
}
