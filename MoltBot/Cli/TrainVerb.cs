using System.CommandLine;
using MoltBot.Hosting;
using MoltBot.Inference.Training.Corpus;
using MoltBot.Inference.Training.Lm;
using MoltBot.Inference.Training.Nlu;
using Spectre.Console;

namespace MoltBot.Cli;

/// <summary>`train corpus|nlu|lm`: build the bilingual corpus from its templates, or train a teacher model.</summary>
public static class TrainVerb
{
    public static readonly string CorpusDir = Path.Combine("models", "corpus");

    public static Command Create()
    {
        var train = new Command("train", "Build the corpus or train a teacher model (NLU encoder or decoder LM) from scratch or a checkpoint.");
        train.Subcommands.Add(CorpusCommand());
        train.Subcommands.Add(NluCommand());
        train.Subcommands.Add(LmCommand());
        return train;
    }

    private static Command CorpusCommand()
    {
        var dir = new Option<string>("--corpus") { Description = "Corpus folder holding nlu/templates, nlu/slots and dialog/.", DefaultValueFactory = _ => CorpusDir };
        var seed = new Option<int>("--seed") { Description = "Seed for the split and the slot filling.", DefaultValueFactory = _ => 20261123 };
        var dialogFills = new Option<int>("--dialog-train-fills") { Description = "Training conversations expanded from each slotted dialog template (more = more distillation data; held-out slot values are never used).", DefaultValueFactory = _ => new DialogCorpusOptions().TrainFillsPerTemplate };
        var composedFills = new Option<int>("--dialog-composed-fills") { Description = "Extra training conversations per slotted dialog template filled from the composed pools in dialog/slots/ (0 = none; heldout.jsonl does not depend on it).", DefaultValueFactory = _ => new DialogCorpusOptions().ComposedFillsPerTemplate };
        var cmd = new Command("corpus", "Expand the NLU and dialog templates into train/dev/test JSONL (deterministic; split by phrasing).") { dir, seed, dialogFills, composedFills };
        cmd.SetAction((parse, ct) => StartupErrors.GuardAsync(() => TrainingConsole.GuardAsync(() =>
        {
            string root = parse.GetValue(dir)!;
            int s = parse.GetValue(seed);
            var nlu = NluCorpusBuilder.Build(Path.Combine(root, "nlu"), new NluCorpusOptions { Seed = s });
            NluCorpusBuilder.Write(nlu, Path.Combine(root, "nlu"));
            var dialogs = DialogCorpusBuilder.Build(Path.Combine(root, "dialog"), Path.Combine(root, "nlu", "slots"), new DialogCorpusOptions { Seed = s, TrainFillsPerTemplate = parse.GetValue(dialogFills), ComposedFillsPerTemplate = parse.GetValue(composedFills) });
            DialogJsonl.Write(Path.Combine(root, "dialog", "train.jsonl"), dialogs.Train);
            DialogJsonl.Write(Path.Combine(root, "dialog", "heldout.jsonl"), dialogs.HeldOut);
            var table = new Table().AddColumns("set", "examples");
            table.AddRow("nlu/train.jsonl", nlu.Train.Count.ToString());
            table.AddRow("nlu/dev.jsonl", nlu.Dev.Count.ToString());
            table.AddRow("nlu/test.jsonl", nlu.Test.Count.ToString());
            table.AddRow("nlu phrasings", nlu.TemplatesPerLangIntent.Values.Sum().ToString());
            table.AddRow("dialog/train.jsonl", dialogs.Train.Count.ToString());
            table.AddRow("dialog/heldout.jsonl", dialogs.HeldOut.Count.ToString());
            AnsiConsole.Write(table);
            return Task.FromResult(0);
        })));
        return cmd;
    }

    private static Command NluCommand()
    {
        var data = new Option<string>("--data") { Description = "Training JSONL.", DefaultValueFactory = _ => Path.Combine(CorpusDir, "nlu", "train.jsonl") };
        var dev = new Option<string?>("--dev") { Description = "Held-out JSONL scored during training ('' = none).", DefaultValueFactory = _ => Path.Combine(CorpusDir, "nlu", "dev.jsonl") };
        var outDir = new Option<string>("--out") { Description = "Output model folder (also the checkpoint folder).", DefaultValueFactory = _ => Path.Combine("models", "teacher-nlu") };
        var config = new Option<string?>("--config") { Description = "Architecture JSON (file or inline): hidden_size, num_hidden_layers, num_attention_heads, intermediate_size, embedding_size; with --arch ngram: num_buckets, embedding_dim, max_char_ngram." };
        var arch = new Option<string>("--arch") { Description = "'encoder' (transformer: intents + entity tags) or 'ngram' (fastText-style hashed word/char n-grams: intents only, no tag head; an ensemble member of another model class).", DefaultValueFactory = _ => "encoder" };
        arch.AcceptOnlyFromAmong("encoder", "ngram");
        var tokenizer = new Option<string?>("--tokenizer") { Description = "Folder with vocab.json + merges.txt; default: train a byte-level BPE on the data." };
        var vocab = new Option<int>("--vocab-size") { Description = "Vocabulary size when a BPE tokenizer is trained.", DefaultValueFactory = _ => 3000 };
        var extra = new Option<string?>("--tokenizer-text") { Description = "Dialog JSONL whose text is added to BPE training.", DefaultValueFactory = _ => Path.Combine(CorpusDir, "dialog", "train.jsonl") };
        var dropout = new Option<double>("--token-dropout") { Description = "Augmentation: probability of deleting/replacing each training token.", DefaultValueFactory = _ => 0.0 };
        var smoothing = new Option<double>("--label-smoothing") { Description = "Label smoothing of the intent loss, in [0, 1).", DefaultValueFactory = _ => 0.0 };
        var balance = new Option<bool>("--balance-intents") { Description = "Weight the intent loss by inverse intent frequency." };
        var keep = new Option<string>("--keep") { Description = "Weights left in --out: 'best' (highest dev intent accuracy, ties by entity F1) or 'last' (last step).", DefaultValueFactory = _ => "best" };
        var initFrom = new Option<string?>("--init-from") { Description = "FP32 NLU model folder to start from instead of random weights (same --config and tokenizer; optimiser and schedule start afresh)." };
        var run = new RunOptionSet(defaultSteps: 3000);
        var cmd = new Command("nlu", "Train an NLU encoder (intent + entity tags) from labelled JSONL.") { data, dev, outDir, config, arch, tokenizer, vocab, extra, dropout, smoothing, balance, keep, initFrom };
        run.AddTo(cmd);
        cmd.SetAction((parse, ct) => StartupErrors.GuardAsync(() => TrainingConsole.GuardAsync(async () =>
        {
            var policy = TrainingConsole.ParsePolicy(run.MalformedPolicy(parse));
            string? extraFile = parse.GetValue(extra);
            var extraText = string.IsNullOrEmpty(extraFile) || !File.Exists(extraFile) ? []
                : DialogJsonl.Read(extraFile, policy).Dialogs.SelectMany(d => d.Messages).Select(m => m.Content).ToList();
            string? configJson = parse.GetValue(config);
            bool ngram = parse.GetValue(arch) == "ngram";
            var job = new NluTrainingJob
            {
                TrainFile = parse.GetValue(data)!,
                DevFile = string.IsNullOrEmpty(parse.GetValue(dev)) ? null : parse.GetValue(dev),
                OutDir = parse.GetValue(outDir)!,
                TokenizerDir = parse.GetValue(tokenizer),
                VocabSize = parse.GetValue(vocab),
                ExtraTokenizerText = extraText,
                TokenDropout = parse.GetValue(dropout),
                LabelSmoothing = parse.GetValue(smoothing),
                BalanceIntents = parse.GetValue(balance),
                Keep = CheckpointSelections.Parse(parse.GetValue(keep)!),
                InitFrom = string.IsNullOrEmpty(parse.GetValue(initFrom)) ? null : parse.GetValue(initFrom),
                Architecture = configJson is null || ngram ? new NluArchitecture() : NluArchitecture.FromJson(configJson, new NluArchitecture()),
                Ngram = !ngram ? null : configJson is null ? new NgramArchitecture() : NgramArchitecture.FromJson(configJson, new NgramArchitecture()),
                Run = run.Read(parse),
                Policy = policy,
                OnSkipped = TrainingConsole.ReportSkipped,
            };
            var result = await TrainingConsole.RunAsync("train nlu", job.Run.Steps, (p, c) => NluTrainer.Run(job, p, c), ct);
            return result.Outcome == Inference.Training.Loop.TrainingOutcome.Completed ? 0 : 130;
        })));
        return cmd;
    }

    private static Command LmCommand()
    {
        var data = new Option<string>("--data") { Description = "Dialog JSONL ({\"lang\", \"messages\": [{\"role\", \"content\"}]}).", DefaultValueFactory = _ => Path.Combine(CorpusDir, "dialog", "train.jsonl") };
        var heldOut = new Option<string?>("--heldout") { Description = "Held-out dialog JSONL ('' = none).", DefaultValueFactory = _ => Path.Combine(CorpusDir, "dialog", "heldout.jsonl") };
        var outDir = new Option<string>("--out") { Description = "Output model folder (also the checkpoint folder).", DefaultValueFactory = _ => Path.Combine("models", "teacher-lm") };
        var config = new Option<string?>("--config") { Description = "Architecture JSON (file or inline, HF keys): hidden_size, num_hidden_layers, num_attention_heads, num_key_value_heads, intermediate_size, tie_word_embeddings." };
        var tokenizer = new Option<string?>("--tokenizer") { Description = "Folder with vocab.json + merges.txt (e.g. models/teacher-nlu); default: train a byte-level BPE on the data." };
        var vocab = new Option<int>("--vocab-size") { Description = "Vocabulary size when a BPE tokenizer is trained.", DefaultValueFactory = _ => 3000 };
        var maxLen = new Option<int>("--max-length") { Description = "Longest training sequence in tokens.", DefaultValueFactory = _ => 256 };
        var bestDir = new Option<string?>("--keep-best") { Description = "Also save the checkpoint with the lowest held-out perplexity (over all evaluations) to this folder." };
        var run = new RunOptionSet(defaultSteps: 1500);
        var cmd = new Command("lm", "Train a Llama-style decoder on chat dialogs (loss on the assistant's replies).") { data, heldOut, outDir, config, tokenizer, vocab, maxLen, bestDir };
        run.AddTo(cmd);
        cmd.SetAction((parse, ct) => StartupErrors.GuardAsync(() => TrainingConsole.GuardAsync(async () =>
        {
            string? configJson = parse.GetValue(config);
            var job = new LmTrainingJob
            {
                TrainFile = parse.GetValue(data)!,
                HeldOutFile = string.IsNullOrEmpty(parse.GetValue(heldOut)) ? null : parse.GetValue(heldOut),
                OutDir = parse.GetValue(outDir)!,
                TokenizerDir = parse.GetValue(tokenizer),
                VocabSize = parse.GetValue(vocab),
                MaxLength = parse.GetValue(maxLen),
                BestDir = parse.GetValue(bestDir),
                Architecture = configJson is null ? new LmArchitecture() : LmArchitecture.FromJson(configJson, new LmArchitecture()),
                Run = run.Read(parse),
                Policy = TrainingConsole.ParsePolicy(run.MalformedPolicy(parse)),
                OnSkipped = TrainingConsole.ReportSkipped,
            };
            var result = await TrainingConsole.RunAsync("train lm", job.Run.Steps, (p, c) => LmTrainer.Run(job, p, c), ct);
            return result.Outcome == Inference.Training.Loop.TrainingOutcome.Completed ? 0 : 130;
        })));
        return cmd;
    }
}
