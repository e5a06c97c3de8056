using System.Text.Json.Nodes;
using MoltBot.Inference.Kernels;
using MoltBot.Inference.Models;
using MoltBot.Inference.Tokenization;
using MoltBot.Inference.Training.Corpus;
using MoltBot.Inference.Training.Loop;
using MoltBot.Inference.Training.Reporting;
using MoltBot.Inference.Training.Tokenization;
using TorchSharp;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace MoltBot.Inference.Training.Lm;

/// <summary>
/// Trains a Llama-style <see cref="DecoderLM"/> on chat dialogs (loss on reply tokens), from scratch, from a
/// checkpoint, or by distillation from a teacher decoder (KL over every position + CE on replies).
/// </summary>
public static class LmTrainer
{
    public static TrainingResult Run(LmTrainingJob job, Action<TrainingProgress>? progress, CancellationToken cancellationToken)
    {
        job.Run.Validate();
        job.Distillation.Validate();
        if (job.TeacherDir is not null && job.Distillation.HiddenAlignment > 0)
            throw new ArgumentException("--align-hidden applies to NLU distillation (sentence embeddings); decoder distillation matches logits only");
        torch.set_num_threads(job.Run.Threads);
        torch.manual_seed(job.Run.Seed);
        using var grad = torch.enable_grad();

        var (trainDialogs, skipped) = DialogJsonl.Read(job.TrainFile, job.Policy);
        (IReadOnlyList<Dialog> Dialogs, IReadOnlyList<SkippedLine> Skipped)? heldOut = job.HeldOutFile is null ? null : DialogJsonl.Read(job.HeldOutFile, job.Policy);
        foreach (var s in skipped.Concat(heldOut?.Skipped ?? [])) job.OnSkipped?.Invoke(s);
        Directory.CreateDirectory(job.OutDir);

        using var teacher = job.TeacherDir is null ? null : ModelFolder.LoadDecoder(job.TeacherDir, new WeightOnlyKernel());
        string tokenizerDir = PrepareTokenizer(job, trainDialogs, teacher);
        var tokenizer = teacher?.Tokenizer ?? TextTokenizer.Load(tokenizerDir);
        bool resume = job.Run.Resume && TrainerState.Exists(job.OutDir);
        DecoderConfig config = resume ? DecoderConfig.Load(Path.Combine(job.OutDir, "config.json"))
            : job.Architecture.Apply(teacher?.Config ?? BaseConfig(tokenizerDir, tokenizer));
        var template = ChatTemplate.For(config.ChatFormat ?? teacher?.Template.Format ?? ChatTemplate.ChatMl);
        config = config with { ChatFormat = template.Format };
        int padId = tokenizer.SpecialId(BpeTrainerOptions.Pad) ?? config.EosTokenId ?? 0;

        var trainSet = trainDialogs.Select(d => DialogSequence.Encode(d, tokenizer, template, Math.Min(job.MaxLength, config.MaxPositionEmbeddings)))
            .Where(s => s.Ids.Length > 1).ToList();
        var heldSet = heldOut?.Dialogs.Select(d => DialogSequence.Encode(d, tokenizer, template, Math.Min(job.MaxLength, config.MaxPositionEmbeddings))).ToList();

        using var loaded = resume ? ModelFolder.LoadDecoder(job.OutDir, new WeightOnlyKernel()) : null;
        using var fresh = resume ? null : new DecoderLM(config);
        var model = loaded?.Model ?? fresh!;
        model.train();
        using var optimizer = torch.optim.AdamW(model.parameters(), lr: job.Run.LearningRate, weight_decay: job.Run.WeightDecay);
        long step = resume ? TrainerState.Load(job.OutDir, optimizer) : 0;

        var curve = new TrainingCurve(teacher is null ? "LM teacher training" : "LM distillation", "held-out perplexity");
        if (resume) curve.LoadFrom(job.OutDir);
        var meter = new ThroughputMeter();
        var options = new JsonObject
        {
            ["train"] = job.TrainFile, ["teacher"] = job.TeacherDir, ["seed"] = job.Run.Seed, ["steps"] = job.Run.Steps,
            ["batch_size"] = job.Run.BatchSize, ["lr"] = job.Run.LearningRate, ["alpha"] = job.Distillation.Alpha, ["temperature"] = job.Distillation.Temperature,
        };
        int stepsPerEpoch = (trainSet.Count + job.Run.BatchSize - 1) / job.Run.BatchSize;
        double lastLoss = double.NaN;
        var best = new BestCheckpoint(job.BestDir, tokenizerDir);
        while (step < job.Run.Steps)
        {
            if (cancellationToken.IsCancellationRequested)
            {
                Save(job, model, tokenizerDir, curve, step, optimizer, options, final: false);
                return new TrainingResult(TrainingOutcome.Interrupted, step, lastLoss, job.OutDir);
            }
            long epoch = step / stepsPerEpoch;
            var rng = new Random(unchecked(job.Run.Seed * 7919 + (int)epoch));
            var order = Enumerable.Range(0, trainSet.Count).OrderBy(_ => rng.Next()).ToArray();
            var items = order.Skip((int)(step % stepsPerEpoch) * job.Run.BatchSize).Take(job.Run.BatchSize).Select(i => trainSet[i]).ToList();
            double lr = LearningRateSchedule.At(step, job.Run);
            foreach (var g in optimizer.ParamGroups) g.LearningRate = lr;
            long tokens;
            using (var scope = torch.NewDisposeScope())
            {
                using var batch = LmBatch.From(items, padId);
                tokens = batch.Valid.sum().item<long>();
                var logits = model.forward(batch.Inputs);
                var loss = Loss(logits, batch, teacher, job.Distillation);
                optimizer.zero_grad();
                loss.backward();
                torch.nn.utils.clip_grad_norm_(model.parameters(), job.Run.ClipNorm);
                optimizer.step();
                lastLoss = loss.item<float>();
            }
            step++;
            meter.Record(step, tokens);
            double? heldLoss = null;
            bool evalNow = heldSet is not null && job.Run.EvalEvery > 0 && (step % job.Run.EvalEvery == 0 || step == job.Run.Steps);
            if (evalNow)
            {
                heldLoss = LmEvaluator.ReplyCrossEntropy(model, heldSet!, padId);
                best.Offer(model, step, heldLoss.Value);
                model.train();
            }
            if (step % 10 == 0 || evalNow || step == job.Run.Steps)
                curve.Add(new TrainingPoint(step, lastLoss, lr, meter.ItemsPerSecond, heldLoss, heldLoss is { } h ? Math.Exp(h) : null));
            if (evalNow && step < job.Run.Steps) Save(job, model, tokenizerDir, curve, step, optimizer, options, final: false);
            progress?.Invoke(new TrainingProgress(step, job.Run.Steps, lastLoss, meter.ItemsPerSecond, meter.Eta(step, job.Run.Steps),
                heldLoss is { } hl ? $"held-out ppl {Math.Exp(hl):F2}" : null));
        }
        var metrics = new Dictionary<string, double> { ["final_loss"] = lastLoss };
        if (heldSet is not null) metrics["heldout_perplexity"] = Math.Exp(LmEvaluator.ReplyCrossEntropy(model, heldSet, padId));
        foreach (var (k, v) in metrics) curve.Summary[k] = Math.Round(v, 6);
        curve.Summary["sequences"] = trainSet.Count;
        curve.Summary["parameters"] = model.parameters().Sum(p => p.numel());
        Save(job, model, tokenizerDir, curve, step, optimizer, options, final: true);
        return new TrainingResult(TrainingOutcome.Completed, step, lastLoss, job.OutDir) { Metrics = metrics };
    }

    private static string PrepareTokenizer(LmTrainingJob job, IReadOnlyList<Dialog> dialogs, LoadedDecoder? teacher)
    {
        if (teacher is not null) return teacher.Folder;
        if (job.TokenizerDir is not null) return job.TokenizerDir;
        if (!File.Exists(Path.Combine(job.OutDir, "vocab.json")))
            BpeTrainer.Train(dialogs.SelectMany(d => d.Messages).Select(m => m.Content).Concat(job.ExtraTokenizerText),
                new BpeTrainerOptions { VocabSize = job.VocabSize }, job.OutDir);
        return job.OutDir;
    }

    /// <summary>Vocabulary and special ids of a tokenizer we trained (ChatML, &lt;|im_end|&gt; ends a reply).</summary>
    private static DecoderConfig BaseConfig(string tokenizerDir, TextTokenizer tokenizer) => new()
    {
        ModelType = "llama",
        VocabSize = Nlu.NluTrainer.VocabSizeOf(tokenizerDir),
        HiddenSize = 64,
        IntermediateSize = 128,
        NumHiddenLayers = 1,
        NumAttentionHeads = 2,
        NumKeyValueHeads = 2,
        RmsNormEps = 1e-5,
        EosTokenId = tokenizer.SpecialId(BpeTrainerOptions.ImEnd) ?? throw new InvalidDataException($"the tokenizer in '{tokenizerDir}' has no {BpeTrainerOptions.ImEnd} token"),
        BosTokenId = null,
        ChatFormat = ChatTemplate.ChatMl,
    };

    private static Tensor Loss(Tensor logits, LmBatch batch, LoadedDecoder? teacher, DistillationOptions kd)
    {
        long v = logits.shape[2];
        var flat = logits.reshape(-1, v);
        var ce = F.cross_entropy(flat, batch.Targets.reshape(-1), ignore_index: LmBatch.Ignore);
        if (teacher is null) return ce;
        Tensor t;
        using (torch.no_grad()) t = teacher.Model.forward(batch.Inputs);
        var valid = batch.Valid.reshape(-1).nonzero().squeeze(1);
        var soft = Distillation.KlLoss(flat.index_select(0, valid), t.reshape(-1, v).index_select(0, valid), kd.Temperature);
        return soft.Times(kd.Alpha).Plus(ce.Times(1 - kd.Alpha)); // explicit scalars: see LiveScalars
    }

    private static void Save(LmTrainingJob job, DecoderLM model, string tokenizerDir, TrainingCurve curve, long step,
        TorchSharp.Modules.OptimizerHelper optimizer, JsonObject options, bool final)
    {
        ModelFolder.SaveDecoder(job.OutDir, model, tokenizerFrom: tokenizerDir);
        curve.Save(job.OutDir);
        if (final) TrainerState.Clear(job.OutDir);
        else TrainerState.Save(job.OutDir, step, options, optimizer);
    }
}
