using System.CommandLine;
using MoltBot.Hosting;
using MoltBot.Inference.Training.Nlu;

namespace MoltBot.Cli;

/// <summary>`pretrain nlu`: masked-LM pre-training of the NLU encoder on unlabelled training text, for `train nlu --init-from`.</summary>
public static class PretrainVerb
{
    public static Command Create()
    {
        var pretrain = new Command("pretrain", "Self-supervised pre-training of a model on unlabelled training text.");
        pretrain.Subcommands.Add(NluCommand());
        return pretrain;
    }

    private static Command NluCommand()
    {
        var corpus = TrainVerb.CorpusDir;
        var text = new Option<string[]>("--text")
        {
            // Not the dialog corpus by default: its user turns repeat short NLU held-out sentences (14 of dev's 474).
            Description = "NLU or dialog JSONL training files whose text is learned (held-out splits are refused).",
            AllowMultipleArgumentsPerToken = true,
            DefaultValueFactory = _ => [Path.Combine(corpus, "nlu", "train.jsonl")],
        };
        var exclude = new Option<string[]>("--exclude")
        {
            Description = "NLU or dialog JSONL files whose sentences are removed from the text ('' = none; default: the NLU dev and test splits).",
            AllowMultipleArgumentsPerToken = true,
            DefaultValueFactory = _ => [Path.Combine(corpus, "nlu", "dev.jsonl"), Path.Combine(corpus, "nlu", "test.jsonl")],
        };
        var outDir = new Option<string>("--out") { Description = "Output folder (an NLU model folder whose encoder `train nlu --init-from` takes).", Required = true };
        var config = new Option<string?>("--config") { Description = "Architecture JSON (file or inline), as for `train nlu`." };
        var tokenizer = new Option<string>("--tokenizer") { Description = "Folder with vocab.json + merges.txt (the fine-tuned model's tokenizer).", DefaultValueFactory = _ => Path.Combine("models", "teacher-nlu") };
        var maskRate = new Option<double>("--mask-rate") { Description = "Share of each sentence's tokens to predict (whole words; 80% mask / 10% random / 10% kept).", DefaultValueFactory = _ => 0.15 };
        var run = new RunOptionSet(defaultSteps: 3000);
        var cmd = new Command("nlu", "Masked-LM pre-training of the NLU encoder (same architecture as `train nlu`).") { text, exclude, outDir, config, tokenizer, maskRate };
        run.AddTo(cmd);
        cmd.SetAction((parse, ct) => StartupErrors.GuardAsync(() => TrainingConsole.GuardAsync(async () =>
        {
            string? configJson = parse.GetValue(config);
            var job = new MlmPretrainingJob
            {
                TextFiles = parse.GetValue(text)!.Where(f => f.Length > 0).ToList(),
                ExcludeFiles = parse.GetValue(exclude)!.Where(f => f.Length > 0).ToList(),
                OutDir = parse.GetValue(outDir)!,
                TokenizerDir = parse.GetValue(tokenizer)!,
                MaskRate = parse.GetValue(maskRate),
                Architecture = configJson is null ? new NluArchitecture() : NluArchitecture.FromJson(configJson, new NluArchitecture()),
                Run = run.Read(parse),
                Policy = TrainingConsole.ParsePolicy(run.MalformedPolicy(parse)),
                OnSkipped = TrainingConsole.ReportSkipped,
            };
            var result = await TrainingConsole.RunAsync("pretrain nlu", job.Run.Steps, (p, c) => MlmPretrainer.Run(job, p, c), ct);
            return result.Outcome == Inference.Training.Loop.TrainingOutcome.Completed ? 0 : 130;
        })));
        return cmd;
    }
}
