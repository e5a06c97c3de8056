using System.CommandLine;
using MoltBot.Hosting;
using MoltBot.Inference.Models;
using Spectre.Console;

namespace MoltBot.Cli;

/// <summary>
/// `ensemble nlu --out DIR MEMBER...`: one NLU teacher folder whose intent and BIO tag probabilities are the mean of
/// its members' (FP32 NLU folders sharing one tokenizer and label set). Loads wherever an NLU folder loads.
/// </summary>
public static class EnsembleVerb
{
    public static Command Create()
    {
        var members = new Argument<string[]>("members") { Description = "FP32 NLU model folders (same vocab.json/merges.txt and labels).", Arity = ArgumentArity.OneOrMore };
        var outDir = new Option<string>("--out") { Description = "Ensemble folder to write (members are copied into member-0, member-1, …).", Required = true };
        var nlu = new Command("nlu", "Combine NLU encoders into one ensemble teacher (mean of member probabilities).") { members, outDir };
        nlu.SetAction((parse, ct) => StartupErrors.GuardAsync(() => TrainingConsole.GuardAsync(() =>
        {
            var sources = parse.GetValue(members)!;
            string output = parse.GetValue(outDir)!;
            NluEnsembleFolder.Write(output, sources);
            long bytes = Directory.GetFiles(output, "*.safetensors", SearchOption.AllDirectories).Sum(f => new FileInfo(f).Length);
            AnsiConsole.MarkupLine($"[green]ensemble[/] of {sources.Length} NLU members → {Markup.Escape(output)} (weights {bytes:N0} bytes)");
            return Task.FromResult(0);
        })));
        var cmd = new Command("ensemble", "Build an ensemble model folder.");
        cmd.Subcommands.Add(nlu);
        return cmd;
    }
}
