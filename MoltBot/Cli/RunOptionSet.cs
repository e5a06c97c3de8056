using System.CommandLine;
using MoltBot.Inference.Training.Loop;

namespace MoltBot.Cli;

/// <summary>The optimiser options every train/distill subcommand takes (--steps, --batch-size, --lr, --seed, ...).</summary>
internal sealed class RunOptionSet
{
    private readonly Option<int> steps;
    private readonly Option<int> batch = new("--batch-size") { Description = "Examples (NLU) or sequences (LM) per step.", DefaultValueFactory = _ => 32 };
    private readonly Option<double> lr = new("--lr") { Description = "Peak learning rate (warm-up, then cosine decay to 10%).", DefaultValueFactory = _ => 1e-3 };
    private readonly Option<int> seed = new("--seed") { Description = "Seed for initialisation and batch order.", DefaultValueFactory = _ => 1234 };
    private readonly Option<int> threads = new("--threads") { Description = "torch threads.", DefaultValueFactory = _ => 2 };
    private readonly Option<int> evalEvery = new("--eval-every") { Description = "Held-out evaluation and checkpoint interval in steps.", DefaultValueFactory = _ => 250 };
    private readonly Option<int> warmup = new("--warmup") { Description = "Linear warm-up steps.", DefaultValueFactory = _ => 100 };
    private readonly Option<bool> resume = new("--resume") { Description = "Continue from the checkpoint in --out (written at each evaluation and on Ctrl+C)." };
    private readonly Option<string> onMalformed = new("--on-malformed") { Description = "A malformed JSONL line: 'fail' (default) or 'skip' (reported with file and line).", DefaultValueFactory = _ => "fail" };

    public RunOptionSet(int defaultSteps) =>
        steps = new Option<int>("--steps") { Description = "Optimiser steps.", DefaultValueFactory = _ => defaultSteps };

    public void AddTo(Command command)
    {
        foreach (var o in new Option[] { steps, batch, lr, seed, threads, evalEvery, warmup, resume, onMalformed }) command.Options.Add(o);
    }

    public TrainingRunOptions Read(ParseResult parse) => new()
    {
        Steps = parse.GetValue(steps),
        BatchSize = parse.GetValue(batch),
        LearningRate = parse.GetValue(lr),
        Seed = parse.GetValue(seed),
        Threads = parse.GetValue(threads),
        EvalEvery = parse.GetValue(evalEvery),
        WarmupSteps = parse.GetValue(warmup),
        Resume = parse.GetValue(resume),
    };

    public string MalformedPolicy(ParseResult parse) => parse.GetValue(onMalformed)!;
}
