using System.CommandLine;
using MoltBot.Hosting;
using MoltBot.Inference.Training.Loop;
using MoltBot.Inference.Training.Lm;
using MoltBot.Inference.Training.Nlu;

namespace MoltBot.Cli;

/// <summary>
/// `distill nlu|lm --teacher DIR --student-config JSON`: train a smaller student on the teacher's soft targets,
/// loss = α·T²·KL(softmax(teacher/T) ‖ softmax(student/T)) + (1−α)·CE(labels) [+ β·hidden alignment for NLU].
/// The LM teacher may be any Hugging Face–format llama/qwen2/mistral folder.
/// </summary>
public static class DistillVerb
{
    public static Command Create()
    {
        var distill = new Command("distill", "Distill a student model from a teacher (ours or a Hugging Face–format decoder).");
        distill.Subcommands.Add(NluCommand());
        distill.Subcommands.Add(LmCommand());
        return distill;
    }

    private sealed class KdOptions
    {
        public readonly Option<string> Teacher = new("--teacher") { Description = "Teacher model folder.", Required = true };
        public readonly Option<string> StudentConfig = new("--student-config") { Description = "Student architecture: JSON file or inline JSON (HF keys).", Required = true };
        public readonly Option<double> Alpha = new("--alpha") { Description = "Weight of the soft-target (KL) term; 1−α goes to the label cross-entropy.", DefaultValueFactory = _ => 0.5 };
        public readonly Option<double> Temperature = new("--temperature") { Description = "Softmax temperature T of both models in the KL term (scaled by T²).", DefaultValueFactory = _ => 2.0 };
        public readonly Option<double> AlignHidden = new("--align-hidden") { Description = "NLU only: weight of the MSE between student and teacher sentence embeddings (0 = off).", DefaultValueFactory = _ => 0.0 };

        public void AddTo(Command c)
        {
            foreach (var o in new Option[] { Teacher, StudentConfig, Alpha, Temperature, AlignHidden }) c.Options.Add(o);
        }

        public DistillationOptions Read(ParseResult p) => new()
        {
            Alpha = p.GetValue(Alpha),
            Temperature = p.GetValue(Temperature),
            HiddenAlignment = p.GetValue(AlignHidden),
        };
    }

    private static Command NluCommand()
    {
        var kd = new KdOptions();
        var data = new Option<string>("--data") { Description = "Training JSONL.", DefaultValueFactory = _ => Path.Combine(TrainVerb.CorpusDir, "nlu", "train.jsonl") };
        var dev = new Option<string?>("--dev") { Description = "Held-out JSONL scored during training ('' = none).", DefaultValueFactory = _ => Path.Combine(TrainVerb.CorpusDir, "nlu", "dev.jsonl") };
        var outDir = new Option<string>("--out") { Description = "Output (FP32) student folder; run `quantize` on it for INT8.", DefaultValueFactory = _ => Path.Combine("models", "student-nlu") };
        var dropout = new Option<double>("--token-dropout") { Description = "Augmentation: probability of deleting/replacing each training token.", DefaultValueFactory = _ => 0.0 };
        var smoothing = new Option<double>("--label-smoothing") { Description = "Label smoothing of the intent loss, in [0, 1).", DefaultValueFactory = _ => 0.0 };
        var balance = new Option<bool>("--balance-intents") { Description = "Weight the intent loss by inverse intent frequency." };
        var keep = new Option<string>("--keep") { Description = "Weights left in --out: 'best' (highest dev intent accuracy, ties by entity F1) or 'last' (last step).", DefaultValueFactory = _ => "best" };
        var run = new RunOptionSet(defaultSteps: 3000);
        var cmd = new Command("nlu", "Distill an NLU encoder (intent and tag distributions).") { data, dev, outDir, dropout, smoothing, balance, keep };
        kd.AddTo(cmd);
        run.AddTo(cmd);
        cmd.SetAction((parse, ct) => StartupErrors.GuardAsync(() => TrainingConsole.GuardAsync(async () =>
        {
            var job = new NluTrainingJob
            {
                TrainFile = parse.GetValue(data)!,
                DevFile = string.IsNullOrEmpty(parse.GetValue(dev)) ? null : parse.GetValue(dev),
                OutDir = parse.GetValue(outDir)!,
                TeacherDir = parse.GetValue(kd.Teacher),
                TokenDropout = parse.GetValue(dropout),
                LabelSmoothing = parse.GetValue(smoothing),
                BalanceIntents = parse.GetValue(balance),
                Keep = CheckpointSelections.Parse(parse.GetValue(keep)!),
                Architecture = NluArchitecture.FromJson(parse.GetValue(kd.StudentConfig)!, new NluArchitecture(Hidden: 96, Layers: 2, Heads: 4, Intermediate: 256)),
                Distillation = kd.Read(parse),
                Run = run.Read(parse),
                Policy = TrainingConsole.ParsePolicy(run.MalformedPolicy(parse)),
                OnSkipped = TrainingConsole.ReportSkipped,
            };
            var result = await TrainingConsole.RunAsync("distill nlu", job.Run.Steps, (p, c) => NluTrainer.Run(job, p, c), ct);
            return result.Outcome == TrainingOutcome.Completed ? 0 : 130;
        })));
        return cmd;
    }

    private static Command LmCommand()
    {
        var kd = new KdOptions();
        var data = new Option<string>("--data") { Description = "Dialog JSONL.", DefaultValueFactory = _ => Path.Combine(TrainVerb.CorpusDir, "dialog", "train.jsonl") };
        var heldOut = new Option<string?>("--heldout") { Description = "Held-out dialog JSONL ('' = none).", DefaultValueFactory = _ => Path.Combine(TrainVerb.CorpusDir, "dialog", "heldout.jsonl") };
        var outDir = new Option<string>("--out") { Description = "Output (FP32) student folder; run `quantize` on it for INT8.", DefaultValueFactory = _ => Path.Combine("models", "student-lm") };
        var maxLen = new Option<int>("--max-length") { Description = "Longest training sequence in tokens.", DefaultValueFactory = _ => 256 };
        var bestDir = new Option<string?>("--keep-best") { Description = "Also save the checkpoint with the lowest held-out perplexity (over all evaluations) to this folder." };
        var run = new RunOptionSet(defaultSteps: 1500);
        var cmd = new Command("lm", "Distill a Llama-style decoder from a teacher decoder (KL over next-token distributions).") { data, heldOut, outDir, maxLen, bestDir };
        kd.AddTo(cmd);
        run.AddTo(cmd);
        cmd.SetAction((parse, ct) => StartupErrors.GuardAsync(() => TrainingConsole.GuardAsync(async () =>
        {
            var job = new LmTrainingJob
            {
                TrainFile = parse.GetValue(data)!,
                HeldOutFile = string.IsNullOrEmpty(parse.GetValue(heldOut)) ? null : parse.GetValue(heldOut),
                OutDir = parse.GetValue(outDir)!,
                TeacherDir = parse.GetValue(kd.Teacher),
                MaxLength = parse.GetValue(maxLen),
                BestDir = parse.GetValue(bestDir),
                Architecture = LmArchitecture.FromJson(parse.GetValue(kd.StudentConfig)!, new LmArchitecture(Hidden: 128, Layers: 2, Heads: 4, KvHeads: 4, Intermediate: 352, Tied: true)),
                Distillation = kd.Read(parse),
                Run = run.Read(parse),
                Policy = TrainingConsole.ParsePolicy(run.MalformedPolicy(parse)),
                OnSkipped = TrainingConsole.ReportSkipped,
            };
            var result = await TrainingConsole.RunAsync("distill lm", job.Run.Steps, (p, c) => LmTrainer.Run(job, p, c), ct);
            return result.Outcome == TrainingOutcome.Completed ? 0 : 130;
        })));
        return cmd;
    }
}
