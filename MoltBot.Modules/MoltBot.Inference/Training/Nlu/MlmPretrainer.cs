using System.Text.Json;
using System.Text.Json.Nodes;
using MoltBot.Contracts.Inference;
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

namespace MoltBot.Inference.Training.Nlu;

/// <summary>What `pretrain nlu` runs: masked-LM pre-training of the NLU encoder on unlabelled training text.</summary>
public sealed record MlmPretrainingJob
{
    /// <summary>NLU or dialog JSONL training files whose text is learned (held-out splits are refused).</summary>
    public required IReadOnlyList<string> TextFiles { get; init; }
    /// <summary>NLU or dialog JSONL files whose sentences are removed from the text (e.g. the dev split).</summary>
    public IReadOnlyList<string> ExcludeFiles { get; init; } = [];
    public required string OutDir { get; init; }
    /// <summary>Folder with vocab.json + merges.txt: the tokenizer the fine-tuned model will use (required).</summary>
    public required string TokenizerDir { get; init; }
    public NluArchitecture Architecture { get; init; } = new();
    public TrainingRunOptions Run { get; init; } = new();
    /// <summary>Share of each sentence's tokens chosen for prediction (BERT: 0.15).</summary>
    public double MaskRate { get; init; } = 0.15;
    public MalformedLinePolicy Policy { get; init; } = MalformedLinePolicy.Fail;
    public Action<SkippedLine>? OnSkipped { get; init; }
}

/// <summary>
/// Masked-LM pre-training of an <see cref="NluEncoder"/>: whole-word BERT masking (<see cref="MlmMasking"/>), the
/// prediction layer is the transposed token embedding (tied, no extra weights), cross-entropy on the chosen tokens.
/// A held-out 2 % of the sentences (at most 500) is scored at every evaluation with a fixed masking (masked-token loss
/// and accuracy). The output folder is an NLU model folder (intent/tag heads untrained) plus <see cref="MarkerFile"/>;
/// `train nlu --init-from` copies only its encoder weights and starts the heads fresh.
/// </summary>
public static class MlmPretrainer
{
    public const string MarkerFile = "mlm-pretraining.json";

    /// <summary>True when <paramref name="folder"/> was written by `pretrain nlu` (its heads were never trained).</summary>
    public static bool IsPretrained(string folder) => File.Exists(Path.Combine(folder, MarkerFile));

    public static TrainingResult Run(MlmPretrainingJob job, Action<TrainingProgress>? progress, CancellationToken cancellationToken)
    {
        job.Run.Validate();
        if (job.MaskRate is <= 0 or >= 1) throw new ArgumentException("--mask-rate must be in (0, 1)");
        foreach (var f in new[] { "vocab.json", "merges.txt" })
            if (!File.Exists(Path.Combine(job.TokenizerDir, f)))
                throw new FileNotFoundException($"pretrain nlu: --tokenizer '{job.TokenizerDir}' has no {f}");
        var text = MlmText.Build(job.TextFiles, job.ExcludeFiles, job.Policy);
        foreach (var s in text.Skipped) job.OnSkipped?.Invoke(s);
        torch.set_num_threads(job.Run.Threads);
        torch.manual_seed(job.Run.Seed);
        using var grad = torch.enable_grad();
        Directory.CreateDirectory(job.OutDir);
        foreach (var f in new[] { "vocab.json", "merges.txt", "tokenizer_config.json" })
        {
            string src = Path.Combine(job.TokenizerDir, f), dst = Path.Combine(job.OutDir, f);
            if (File.Exists(src) && Path.GetFullPath(src) != Path.GetFullPath(dst)) File.Copy(src, dst, overwrite: true);
        }
        var tokenizer = TextTokenizer.Load(job.OutDir);
        var aligner = TokenAligner.Load(job.OutDir);
        bool resume = job.Run.Resume && TrainerState.Exists(job.OutDir);
        var config = resume ? NluEncoderConfig.Load(Path.Combine(job.OutDir, "config.json")) : MakeConfig(job, tokenizer);
        int maskId = tokenizer.SpecialId("<|mask|>") ?? config.PadTokenId;
        var randomIds = Enumerable.Range(0, config.VocabSize).Where(i => !tokenizer.IsSpecial(i)).ToArray();

        var encoded = text.Texts.Select(t => Encode(t, tokenizer, aligner, config.MaxPositionEmbeddings)).Where(e => e.Ids.Length > 0).ToList();
        var split = new Random(job.Run.Seed);
        var order = Enumerable.Range(0, encoded.Count).OrderBy(_ => split.Next()).ToArray();
        int heldCount = Math.Min(500, encoded.Count / 50);
        var held = order.Take(heldCount).Select(i => encoded[i]).ToList();
        var train = order.Skip(heldCount).Select(i => encoded[i]).ToList();
        if (train.Count == 0) throw new InvalidDataException("pretrain nlu: no sentence left to train on");

        using var loaded = resume ? ModelFolder.LoadNlu(job.OutDir, new WeightOnlyKernel()) : null;
        using var fresh = resume ? null : new NluEncoder(config);
        var model = loaded is null ? fresh! : loaded.Model as NluEncoder
            ?? throw new InvalidDataException($"{job.OutDir} holds an NLU ensemble; pretrain writes and resumes single encoders");
        model.train();
        // Only the encoder learns (the heads get no gradient from this objective).
        var parameters = model.named_parameters().Where(p => p.name.StartsWith("encoder.", StringComparison.Ordinal)).Select(p => p.parameter).ToList();
        using var optimizer = torch.optim.AdamW(parameters, lr: job.Run.LearningRate, weight_decay: job.Run.WeightDecay);
        long step = resume ? TrainerState.Load(job.OutDir, optimizer) : 0;
        var curve = new TrainingCurve("NLU masked-LM pre-training", "held-out masked-token accuracy");
        if (resume) curve.LoadFrom(job.OutDir);
        var meter = new ThroughputMeter();
        var options = OptionsJson(job, text);
        int stepsPerEpoch = (train.Count + job.Run.BatchSize - 1) / job.Run.BatchSize;
        double lastLoss = double.NaN;
        (double Loss, double Accuracy)? lastEval = null;
        long orderEpoch = -1;
        int[] epochOrder = [];

        while (step < job.Run.Steps)
        {
            if (cancellationToken.IsCancellationRequested)
            {
                Save(job, model, curve, step, optimizer, options, final: false);
                return new TrainingResult(TrainingOutcome.Interrupted, step, lastLoss, job.OutDir);
            }
            long epoch = step / stepsPerEpoch;
            int k = (int)(step % stepsPerEpoch);
            if (epoch != orderEpoch)
            {
                // The epoch's order depends only on (seed, epoch): a resumed run sees exactly the batches it would have.
                var rng = new Random(unchecked(job.Run.Seed * 7919 + (int)epoch));
                epochOrder = Enumerable.Range(0, train.Count).OrderBy(_ => rng.Next()).ToArray();
                orderEpoch = epoch;
            }
            var batchItems = epochOrder.Skip(k * job.Run.BatchSize).Take(job.Run.BatchSize).Select(i => train[i]).ToList();
            var maskRng = new Random(unchecked(job.Run.Seed * 31 + (int)step));
            double lr = LearningRateSchedule.At(step, job.Run);
            foreach (var g in optimizer.ParamGroups) g.LearningRate = lr;
            using (var scope = torch.NewDisposeScope())
            {
                var (loss, _, _) = Forward(model, batchItems, config.PadTokenId, maskId, randomIds, job.MaskRate, maskRng);
                optimizer.zero_grad();
                loss.backward();
                torch.nn.utils.clip_grad_norm_(parameters, job.Run.ClipNorm);
                optimizer.step();
                lastLoss = loss.item<float>();
            }
            step++;
            meter.Record(step, batchItems.Count);
            bool evalNow = held.Count > 0 && job.Run.EvalEvery > 0 && (step % job.Run.EvalEvery == 0 || step == job.Run.Steps);
            if (evalNow) lastEval = Evaluate(model, held, config.PadTokenId, maskId, randomIds, job.MaskRate, job.Run.Seed);
            if (step % 10 == 0 || evalNow || step == job.Run.Steps)
                curve.Add(new TrainingPoint(step, lastLoss, lr, meter.ItemsPerSecond, evalNow ? lastEval!.Value.Loss : null, evalNow ? lastEval!.Value.Accuracy : null));
            if (evalNow && step < job.Run.Steps) Save(job, model, curve, step, optimizer, options, final: false);
            progress?.Invoke(new TrainingProgress(step, job.Run.Steps, lastLoss, meter.ItemsPerSecond, meter.Eta(step, job.Run.Steps),
                evalNow ? $"held-out masked acc {lastEval!.Value.Accuracy:P1}" : null));
        }

        var metrics = new Dictionary<string, double> { ["final_loss"] = lastLoss };
        if (lastEval is { } e)
        {
            metrics["heldout_mlm_loss"] = e.Loss;
            metrics["heldout_mlm_accuracy"] = e.Accuracy;
        }
        foreach (var (key, v) in metrics) curve.Summary[key] = Math.Round(v, 6);
        curve.Summary["sentences"] = train.Count;
        curve.Summary["heldout_sentences"] = held.Count;
        curve.Summary["excluded_sentences"] = text.Excluded;
        curve.Summary["parameters"] = model.parameters().Sum(p => p.numel());
        Save(job, model, curve, step, optimizer, options, final: true);
        return new TrainingResult(TrainingOutcome.Completed, step, lastLoss, job.OutDir) { Metrics = metrics };
    }

    internal static MlmExample Encode(string text, TextTokenizer tokenizer, TokenAligner aligner, int maxPositions)
    {
        var ids = tokenizer.Encode(text).ToArray();
        var words = MlmMasking.WordsOf(text, aligner.Align(text, ids));
        if (ids.Length > maxPositions)
        {
            ids = ids[..maxPositions];
            words = words[..maxPositions];
        }
        return new MlmExample(ids, words);
    }

    /// <summary>Masked-token cross-entropy of a batch (logits = hidden · embeddingᵀ at the chosen positions) and how many it got right.</summary>
    private static (Tensor Loss, long Correct, long Count) Forward(NluEncoder model, IReadOnlyList<MlmExample> items, int padId, int maskId,
        IReadOnlyList<int> randomIds, double rate, Random rng)
    {
        int b = items.Count, t = items.Max(i => i.Ids.Length);
        var ids = new long[b * t];
        var mask = new long[b * t];
        var targets = new long[b * t];
        Array.Fill(ids, padId);
        Array.Fill(targets, MlmMasking.Ignore);
        for (int r = 0; r < b; r++)
        {
            var (input, target) = MlmMasking.Mask(items[r], rate, maskId, randomIds, rng);
            for (int c = 0; c < input.Length; c++)
            {
                ids[r * t + c] = input[c];
                mask[r * t + c] = 1;
                targets[r * t + c] = target[c];
            }
        }
        var idTensor = torch.tensor(ids, [b, t]);
        var maskTensor = torch.tensor(mask, [b, t]);
        var targetTensor = torch.tensor(targets);
        var hidden = model.HiddenStates(idTensor, maskTensor).reshape(b * t, -1);
        var chosen = targetTensor.NotEqual(MlmMasking.Ignore).nonzero().squeeze(1);
        var logits = hidden.index_select(0, chosen).matmul(model.TokenEmbedding.t());
        var wanted = targetTensor.index_select(0, chosen);
        long correct = logits.argmax(1).eq(wanted).sum().item<long>();
        return (F.cross_entropy(logits, wanted), correct, chosen.shape[0]);
    }

    private static (double Loss, double Accuracy) Evaluate(NluEncoder model, List<MlmExample> held, int padId, int maskId, IReadOnlyList<int> randomIds, double rate, int seed)
    {
        model.eval();
        using var noGrad = torch.no_grad();
        var rng = new Random(seed + 1); // the same masking at every evaluation
        double lossSum = 0;
        long correct = 0, count = 0;
        foreach (var chunk in held.Chunk(64))
        {
            using var scope = torch.NewDisposeScope();
            var (loss, right, n) = Forward(model, chunk, padId, maskId, randomIds, rate, rng);
            lossSum += loss.item<float>() * n;
            correct += right;
            count += n;
        }
        model.train();
        return (lossSum / Math.Max(1, count), (double)correct / Math.Max(1, count));
    }

    private static NluEncoderConfig MakeConfig(MlmPretrainingJob job, TextTokenizer tokenizer)
    {
        var a = job.Architecture;
        int pad = tokenizer.SpecialId(BpeTrainerOptions.Pad) ?? tokenizer.SpecialId(BpeTrainerOptions.EndOfText)
            ?? throw new InvalidDataException("the tokenizer has no <|pad|> or <|endoftext|> token to pad with");
        return new NluEncoderConfig
        {
            VocabSize = NluTrainer.VocabSizeOf(job.OutDir),
            HiddenSize = a.Hidden,
            IntermediateSize = a.Intermediate,
            NumHiddenLayers = a.Layers,
            NumAttentionHeads = a.Heads,
            MaxPositionEmbeddings = a.MaxPositions,
            EmbeddingSize = a.Embedding,
            PadTokenId = pad,
            Intents = Intents.All,
            BioTags = NluEncoderConfig.BioTagsFor(EntityTypes.All),
        };
    }

    private static void Save(MlmPretrainingJob job, NluEncoder model, TrainingCurve curve, long step, TorchSharp.Modules.OptimizerHelper optimizer, JsonObject options, bool final)
    {
        ModelFolder.SaveNlu(job.OutDir, model, tokenizerFrom: job.OutDir);
        File.WriteAllText(Path.Combine(job.OutDir, MarkerFile), options.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
        curve.Save(job.OutDir);
        if (final) TrainerState.Clear(job.OutDir);
        else TrainerState.Save(job.OutDir, step, options, optimizer);
    }

    private static JsonObject OptionsJson(MlmPretrainingJob job, MlmTextSet text) => new()
    {
        ["objective"] = "masked_lm",
        ["text"] = new JsonArray(text.PerFile.Select(kv => (JsonNode)new JsonObject { ["file"] = kv.Key, ["sentences"] = kv.Value }).ToArray()),
        ["exclude"] = new JsonArray(job.ExcludeFiles.Select(f => (JsonNode)JsonValue.Create(f)!).ToArray()),
        ["excluded_sentences"] = text.Excluded,
        ["duplicates_dropped"] = text.Duplicates,
        ["mask_rate"] = job.MaskRate,
        ["whole_word"] = true,
        ["seed"] = job.Run.Seed,
        ["steps"] = job.Run.Steps,
        ["batch_size"] = job.Run.BatchSize,
        ["lr"] = job.Run.LearningRate,
    };
}
