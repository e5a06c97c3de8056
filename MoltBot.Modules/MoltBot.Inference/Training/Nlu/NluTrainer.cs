using System.Diagnostics;
using System.Text.Json.Nodes;
using MoltBot.Contracts.Inference;
using MoltBot.Inference.Kernels;
using MoltBot.Inference.Models;
using MoltBot.Inference.Tokenization;
using MoltBot.Inference.Training.Corpus;
using MoltBot.Inference.Training.Loop;
using MoltBot.Inference.Training.Metrics;
using MoltBot.Inference.Training.Reporting;
using MoltBot.Inference.Training.Tokenization;
using TorchSharp;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace MoltBot.Inference.Training.Nlu;

/// <summary>
/// Trains an <see cref="NluEncoder"/> (intent head + BIO tag head) from scratch, from a checkpoint, or by
/// distillation from a teacher encoder; or, with <see cref="NluTrainingJob.Ngram"/>, an <see cref="NgramClassifier"/>
/// (intent head only: no tag loss) from scratch or a checkpoint. The output folder is a loadable model folder after
/// every checkpoint.
/// </summary>
public static class NluTrainer
{
    public static TrainingResult Run(NluTrainingJob job, Action<TrainingProgress>? progress, CancellationToken cancellationToken)
    {
        job.Run.Validate();
        job.Distillation.Validate();
        if (job.InitFrom is not null) WarmStart.RequireModelFolder(job.InitFrom);
        if (job.Ngram is not null && job.TeacherDir is not null)
            throw new ArgumentException("an n-gram model (--arch ngram) is trained on the labels only: distillation into it is not supported");
        if (job.Ngram is not null && job.InitFrom is not null)
            throw new ArgumentException("--init-from copies encoder weights; it cannot start an n-gram model (--arch ngram)");
        torch.set_num_threads(job.Run.Threads);
        torch.manual_seed(job.Run.Seed);
        using var grad = torch.enable_grad();

        var train = NluJsonlReader.Read(job.TrainFile, job.Policy);
        var dev = job.DevFile is null ? null : NluJsonlReader.Read(job.DevFile, job.Policy);
        foreach (var s in train.Skipped.Concat(dev?.Skipped ?? [])) job.OnSkipped?.Invoke(s);
        Directory.CreateDirectory(job.OutDir);

        LoadedNlu? teacher = job.TeacherDir is null ? null : ModelFolder.LoadNlu(job.TeacherDir, new WeightOnlyKernel());
        try
        {
            if (teacher is not null && !teacher.Model.HasTagHead)
                throw new InvalidDataException($"{job.TeacherDir} has no tag head (an n-gram model): a teacher must give entity tags too (use an encoder or an ensemble)");
            PrepareTokenizer(job, train.Examples, teacher);
            var tokenizer = TextTokenizer.Load(job.OutDir);
            var aligner = TokenAligner.Load(job.OutDir);
            bool resume = job.Run.Resume && TrainerState.Exists(job.OutDir);
            if (resume && ModelFolder.IsNgram(job.OutDir) != job.Ngram is not null)
                throw new InvalidDataException($"{job.OutDir} holds a checkpoint of the other model class: resume it with the --arch it was started with");
            var ngramConfig = job.Ngram is null ? null
                : resume ? NgramClassifierConfig.Load(Path.Combine(job.OutDir, "config.json")) : MakeNgramConfig(job.Ngram, job, tokenizer);
            NluEncoderConfig config = ngramConfig?.AsNluConfig()
                ?? (resume ? NluEncoderConfig.Load(Path.Combine(job.OutDir, "config.json")) : MakeConfig(job, tokenizer, teacher));
            if (teacher is not null && job.Distillation.HiddenAlignment > 0 && teacher.Config.EmbeddingSize != config.EmbeddingSize)
                throw new InvalidDataException($"--align-hidden needs the student's embedding_size ({config.EmbeddingSize}) to equal the teacher's ({teacher.Config.EmbeddingSize})");

            var trainSet = train.Examples.Select(e => EncodedNluExample.Encode(e, tokenizer, aligner, config)).ToList();
            if (job.LabelSmoothing is < 0 or >= 1) throw new ArgumentException("--label-smoothing must be in [0, 1)");
            using var intentWeights = job.BalanceIntents ? BalancedWeights(trainSet, config.Intents.Count) : null;
            var devSet = dev?.Examples.Select(e => EncodedNluExample.Encode(e, tokenizer, aligner, config)).ToList();

            using var loaded = resume ? ModelFolder.LoadNlu(job.OutDir, new WeightOnlyKernel()) : null;
            using NluModel? fresh = resume ? null : ngramConfig is not null ? new NgramClassifier(ngramConfig, tokenizer) : new NluEncoder(config);
            if (fresh is NluEncoder encoder && job.InitFrom is not null) WarmStart.CopyInto(encoder, job.InitFrom, job.OutDir);
            NluModel model = loaded is null ? fresh! : loaded.Model is NluEncoder or NgramClassifier ? loaded.Model
                : throw new InvalidDataException($"{job.OutDir} holds an NLU ensemble; train/distill write and resume single models");
            model.train();
            using var optimizer = torch.optim.AdamW(model.parameters(), lr: job.Run.LearningRate, weight_decay: job.Run.WeightDecay);
            long step = resume ? TrainerState.Load(job.OutDir, optimizer) : 0;
            var best = BestCheckpoint.Open(job.OutDir, resume);

            string title = teacher is null ? ngramConfig is null ? "NLU teacher training" : "NLU n-gram training" : "NLU distillation";
            var curve = new TrainingCurve(title, "dev intent accuracy");
            if (resume) curve.LoadFrom(job.OutDir);
            var meter = new ThroughputMeter();
            var optionsJson = OptionsJson(job);
            int stepsPerEpoch = (trainSet.Count + job.Run.BatchSize - 1) / job.Run.BatchSize;
            double lastLoss = double.NaN;
            DevScore? lastScore = null;

            while (step < job.Run.Steps)
            {
                if (cancellationToken.IsCancellationRequested)
                {
                    Save(job, model, curve, step, optimizer, optionsJson, final: false);
                    return new TrainingResult(TrainingOutcome.Interrupted, step, lastLoss, job.OutDir);
                }
                var batchItems = BatchAt(trainSet, step, stepsPerEpoch, job.Run);
                if (job.TokenDropout > 0) batchItems = Augment(batchItems, job.TokenDropout, config.VocabSize, config.BioTags, new Random(unchecked(job.Run.Seed * 31 + (int)step)));
                double lr = LearningRateSchedule.At(step, job.Run);
                foreach (var g in optimizer.ParamGroups) g.LearningRate = lr;
                using (var scope = torch.NewDisposeScope())
                {
                    using var batch = NluBatch.From(batchItems, config.PadTokenId);
                    using var output = model.forward(batch.Ids, batch.Mask);
                    var loss = Loss(output, batch, teacher, job.Distillation, intentWeights, job.LabelSmoothing, model.HasTagHead);
                    optimizer.zero_grad();
                    loss.backward();
                    torch.nn.utils.clip_grad_norm_(model.parameters(), job.Run.ClipNorm);
                    optimizer.step();
                    lastLoss = loss.item<float>();
                }
                step++;
                meter.Record(step, batchItems.Count);
                double? devAcc = null;
                bool evalNow = devSet is not null && job.Run.EvalEvery > 0 && (step % job.Run.EvalEvery == 0 || step == job.Run.Steps);
                if (evalNow)
                {
                    var score = ScoreDev(model, devSet!, config);
                    devAcc = score.IntentAccuracy;
                    lastScore = score;
                    if (job.Keep == CheckpointSelection.Best) best.Offer(model, score, step, tokenizerFrom: job.OutDir);
                    model.train();
                }
                if (step % 10 == 0 || evalNow || step == job.Run.Steps)
                    curve.Add(new TrainingPoint(step, lastLoss, lr, meter.ItemsPerSecond, null, devAcc));
                if (evalNow && step < job.Run.Steps) Save(job, model, curve, step, optimizer, optionsJson, final: false);
                progress?.Invoke(new TrainingProgress(step, job.Run.Steps, lastLoss, meter.ItemsPerSecond, meter.Eta(step, job.Run.Steps),
                    devAcc is { } a ? $"dev acc {a:P1}" : null));
            }

            var metrics = new Dictionary<string, double> { ["final_loss"] = lastLoss };
            KeepSelectedWeights(job, model, curve, metrics, best, devSet is null ? null : lastScore ?? ScoreDev(model, devSet, config), step);
            foreach (var (k, v) in metrics) curve.Summary[k] = Math.Round(v, 6);
            curve.Summary["examples"] = trainSet.Count;
            if (job.InitFrom is not null) curve.Summary["init_from"] = job.InitFrom;
            curve.Summary["parameters"] = model.parameters().Sum(p => p.numel());
            Save(job, model, curve, step, optimizer, optionsJson, final: true);
            return new TrainingResult(TrainingOutcome.Completed, step, lastLoss, job.OutDir) { Metrics = metrics };
        }
        finally
        {
            teacher?.Dispose();
        }
    }

    /// <summary>
    /// Leaves the selected weights in <paramref name="model"/> and records the choice: with --keep best the
    /// best-dev evaluation's weights replace the last step's when they scored strictly better on dev.
    /// </summary>
    private static void KeepSelectedWeights(NluTrainingJob job, NluModel model, TrainingCurve curve, Dictionary<string, double> metrics,
        BestCheckpoint best, DevScore? last, long step)
    {
        if (last is null)
        {
            curve.Summary["checkpoint_kept"] = "last (no dev set to select on)";
            return;
        }
        metrics["last_step_dev_intent_accuracy"] = last.IntentAccuracy;
        metrics["last_step_dev_entity_f1"] = last.EntityF1;
        var kept = last;
        long keptStep = step;
        if (job.Keep == CheckpointSelection.Best && best.Score is { } b && b.IsBetterThan(last))
        {
            best.RestoreInto(model);
            kept = b;
            keptStep = best.Step;
        }
        curve.Summary["checkpoint_kept"] = job.Keep.Name();
        curve.Summary["kept_step"] = keptStep;
        metrics["dev_intent_accuracy"] = kept.IntentAccuracy;
        metrics["dev_entity_f1"] = kept.EntityF1;
    }

    /// <summary>Teacher's tokenizer, a given one, the one already in the output folder, or a new BPE trained on the data.</summary>
    private static void PrepareTokenizer(NluTrainingJob job, IReadOnlyList<NluExample> train, LoadedNlu? teacher)
    {
        string? from = teacher?.Folder ?? job.TokenizerDir ?? job.InitFrom;
        if (from is not null)
        {
            foreach (var f in new[] { "vocab.json", "merges.txt", "tokenizer_config.json" })
            {
                string src = Path.Combine(from, f);
                if (File.Exists(src) && Path.GetFullPath(src) != Path.GetFullPath(Path.Combine(job.OutDir, f))) File.Copy(src, Path.Combine(job.OutDir, f), overwrite: true);
            }
            return;
        }
        if (File.Exists(Path.Combine(job.OutDir, "vocab.json")) && File.Exists(Path.Combine(job.OutDir, "merges.txt"))) return;
        BpeTrainer.Train(train.Select(e => e.Text).Concat(job.ExtraTokenizerText), new BpeTrainerOptions { VocabSize = job.VocabSize }, job.OutDir);
    }

    private static NluEncoderConfig MakeConfig(NluTrainingJob job, TextTokenizer tokenizer, LoadedNlu? teacher)
    {
        var a = job.Architecture;
        int vocab = teacher?.Config.VocabSize ?? VocabSizeOf(job.OutDir);
        int pad = teacher?.Config.PadTokenId ?? tokenizer.SpecialId(BpeTrainerOptions.Pad) ?? tokenizer.SpecialId(BpeTrainerOptions.EndOfText)
            ?? throw new InvalidDataException("the tokenizer has no <|pad|> or <|endoftext|> token to pad with");
        return new NluEncoderConfig
        {
            VocabSize = vocab,
            HiddenSize = a.Hidden,
            IntermediateSize = a.Intermediate,
            NumHiddenLayers = a.Layers,
            NumAttentionHeads = a.Heads,
            MaxPositionEmbeddings = a.MaxPositions,
            EmbeddingSize = a.Embedding,
            PadTokenId = pad,
            Intents = teacher?.Config.Intents ?? Intents.All,
            BioTags = teacher?.Config.BioTags ?? NluEncoderConfig.BioTagsFor(EntityTypes.All),
        };
    }

    internal static int VocabSizeOf(string folder)
    {
        var vocab = System.Text.Json.JsonSerializer.Deserialize<Dictionary<string, int>>(File.ReadAllText(Path.Combine(folder, "vocab.json")))!;
        return vocab.Values.Max() + 1;
    }

    private static NgramClassifierConfig MakeNgramConfig(NgramArchitecture a, NluTrainingJob job, TextTokenizer tokenizer) => new()
    {
        NumBuckets = a.NumBuckets,
        EmbeddingDim = a.EmbeddingDim,
        MaxCharNgram = a.MaxCharNgram,
        VocabSize = VocabSizeOf(job.OutDir),
        PadTokenId = tokenizer.SpecialId(BpeTrainerOptions.Pad) ?? tokenizer.SpecialId(BpeTrainerOptions.EndOfText)
            ?? throw new InvalidDataException("the tokenizer has no <|pad|> or <|endoftext|> token to pad with"),
        MaxPositionEmbeddings = job.Architecture.MaxPositions,
        Intents = Intents.All,
        BioTags = NluEncoderConfig.BioTagsFor(EntityTypes.All),
    };

    private static List<EncodedNluExample> BatchAt(List<EncodedNluExample> data, long step, int stepsPerEpoch, TrainingRunOptions run)
    {
        long epoch = step / stepsPerEpoch;
        int k = (int)(step % stepsPerEpoch);
        // The epoch's order depends only on (seed, epoch): a resumed run sees exactly the batches it would have.
        var rng = new Random(unchecked(run.Seed * 7919 + (int)epoch));
        var order = Enumerable.Range(0, data.Count).OrderBy(_ => rng.Next()).ToArray();
        return order.Skip(k * run.BatchSize).Take(run.BatchSize).Select(i => data[i]).ToList();
    }

    /// <summary>
    /// Token dropout: each token is deleted (or, a third of the time, replaced by a random token) with probability
    /// <paramref name="p"/>, so the classifier cannot hang on one cue word of the few phrasings it has seen.
    /// An entity whose first token was deleted starts again with B- on its first kept token, so the tagger never
    /// learns I- after O.
    /// </summary>
    internal static List<EncodedNluExample> Augment(List<EncodedNluExample> items, double p, int vocabSize, IReadOnlyList<string> bioTags, Random rng)
    {
        var result = new List<EncodedNluExample>(items.Count);
        foreach (var e in items)
        {
            var ids = new List<int>(e.Ids.Length);
            var tags = new List<int>(e.Tags.Length);
            for (int i = 0; i < e.Ids.Length; i++)
            {
                double r = rng.NextDouble();
                if (r < p * 2 / 3) continue;
                ids.Add(r < p ? rng.Next(vocabSize) : e.Ids[i]);
                tags.Add(e.Tags[i]);
            }
            for (int i = 0; i < tags.Count; i++)
            {
                string tag = bioTags[tags[i]], previous = i == 0 ? "O" : bioTags[tags[i - 1]];
                if (tag.StartsWith("I-", StringComparison.Ordinal) && (previous == "O" || previous[2..] != tag[2..]))
                    tags[i] = IndexOfTag(bioTags, "B-" + tag[2..]);
            }
            result.Add(ids.Count == 0 ? e : e with { Ids = ids.ToArray(), Tags = tags.ToArray() });
        }
        return result;
    }

    private static int IndexOfTag(IReadOnlyList<string> tags, string tag)
    {
        for (int i = 0; i < tags.Count; i++)
            if (tags[i] == tag) return i;
        throw new ArgumentException($"the model has no tag \"{tag}\"");
    }

    /// <summary>Per-intent weights count/share⁻¹ normalised to a mean of 1 over the intents present (absent ones get 1).</summary>
    internal static Tensor BalancedWeights(IReadOnlyList<EncodedNluExample> train, int intents)
    {
        var counts = new double[intents];
        foreach (var e in train) counts[e.Intent]++;
        int present = counts.Count(c => c > 0);
        var weights = counts.Select(c => c > 0 ? (double)train.Count / (present * c) : 1.0).Select(w => (float)w).ToArray();
        return torch.tensor(weights);
    }

    /// <summary>Intent cross-entropy with optional class weights and label smoothing ε: (1−ε)·NLL + ε·mean over classes of −log p.</summary>
    internal static Tensor IntentLoss(Tensor logits, Tensor targets, Tensor? weights, double smoothing)
    {
        var logp = F.log_softmax(logits, 1);
        var nll = -logp.gather(1, targets.unsqueeze(1)).squeeze(1);
        // Explicit scalars throughout (LiveScalars): an implicit one may be finalized during its native call.
        var perExample = smoothing > 0 ? nll.Times(1 - smoothing).Plus(logp.mean([1]).neg().Times(smoothing)) : nll;
        if (weights is null) return perExample.mean();
        var w = weights.index_select(0, targets);
        return (perExample * w).sum() / w.sum();
    }

    /// <param name="tagLoss">False for a model without a tag head (<see cref="NluModel.HasTagHead"/>): intent loss only.</param>
    private static Tensor Loss(NluOutput output, NluBatch batch, LoadedNlu? teacher, DistillationOptions kd, Tensor? intentWeights, double smoothing,
        bool tagLoss)
    {
        long tagCount = output.TagLogits.shape[2];
        var tagLogits = output.TagLogits.reshape(-1, tagCount);
        var tagTargets = batch.Tags.reshape(-1);
        var intentLoss = IntentLoss(output.IntentLogits, batch.Intents, intentWeights, smoothing);
        if (!tagLoss) return intentLoss;
        var ce = intentLoss.Plus(F.cross_entropy(tagLogits, tagTargets, ignore_index: NluBatch.Ignore));
        if (teacher is null) return ce;

        NluOutput t;
        using (torch.no_grad()) t = teacher.Model.forward(batch.Ids, batch.Mask);
        using (t)
        {
            var valid = tagTargets.NotEqual(NluBatch.Ignore).nonzero().squeeze(1);
            var soft = Distillation.KlLoss(output.IntentLogits, t.IntentLogits, kd.Temperature)
                .Plus(Distillation.KlLoss(tagLogits.index_select(0, valid), t.TagLogits.reshape(-1, tagCount).index_select(0, valid), kd.Temperature));
            var loss = soft.Times(kd.Alpha).Plus(ce.Times(1 - kd.Alpha));
            if (kd.HiddenAlignment > 0) loss = loss.Plus(F.mse_loss(output.Embedding, t.Embedding.detach()).Times(kd.HiddenAlignment));
            return loss;
        }
    }

    /// <summary>
    /// Dev intent accuracy and span-level entity F1 (decoded as in `eval nlu`), batched, without gradients (leaves the
    /// model in eval mode).
    /// </summary>
    public static DevScore ScoreDev(NluModel model, IReadOnlyList<EncodedNluExample> data, NluEncoderConfig config)
    {
        model.eval();
        using var noGrad = torch.no_grad();
        var predictions = new List<NluPrediction>(data.Count);
        foreach (var chunk in data.Chunk(64))
        {
            using var scope = torch.NewDisposeScope();
            using var batch = NluBatch.From(chunk, config.PadTokenId);
            using var output = model.forward(batch.Ids, batch.Mask);
            var intents = output.IntentLogits.argmax(1).data<long>().ToArray();
            var tags = output.TagLogits.argmax(2);
            long width = tags.shape[1];
            var flat = tags.data<long>().ToArray();
            for (int r = 0; r < chunk.Length; r++)
            {
                var e = chunk[r];
                var rowTags = new int[e.Ids.Length];
                for (int c = 0; c < rowTags.Length; c++) rowTags[c] = (int)flat[r * width + c];
                IReadOnlyList<EntitySpan> entities = e.Ids.Length == 0 ? [] : BioCodec.Decode(e.Example.Text, e.Spans, rowTags, config.BioTags);
                predictions.Add(new NluPrediction(e.Example.Intent, e.Example.Entities, config.Intents[(int)intents[r]], entities, 0));
            }
        }
        var report = NluScorer.Score("dev", predictions);
        return new DevScore(report.Accuracy, report.EntityF1);
    }

    private static void Save(NluTrainingJob job, NluModel model, TrainingCurve curve, long step, TorchSharp.Modules.OptimizerHelper optimizer, JsonObject options, bool final)
    {
        ModelFolder.SaveNluModel(job.OutDir, model, tokenizerFrom: job.OutDir);
        curve.Save(job.OutDir);
        if (final) TrainerState.Clear(job.OutDir);
        else TrainerState.Save(job.OutDir, step, options, optimizer);
    }

    private static JsonObject OptionsJson(NluTrainingJob job) => new()
    {
        ["train"] = job.TrainFile,
        ["teacher"] = job.TeacherDir,
        ["seed"] = job.Run.Seed,
        ["steps"] = job.Run.Steps,
        ["batch_size"] = job.Run.BatchSize,
        ["lr"] = job.Run.LearningRate,
        ["alpha"] = job.Distillation.Alpha,
        ["temperature"] = job.Distillation.Temperature,
        ["token_dropout"] = job.TokenDropout,
        ["label_smoothing"] = job.LabelSmoothing,
        ["balance_intents"] = job.BalanceIntents,
        ["keep"] = job.Keep.Name(),
        ["init_from"] = job.InitFrom,
        ["arch"] = job.Ngram is null ? "encoder" : "ngram",
    };
}
