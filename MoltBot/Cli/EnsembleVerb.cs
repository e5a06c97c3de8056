using System.CommandLine;
using MoltBot.Hosting;
using MoltBot.Inference.Models;
using Spectre.Console;

namespace MoltBot.Cli;

/// <summary>
/// `ensemble nlu --out DIR [--weights 1,1,1,0.5] MEMBER...`: one NLU teacher folder whose intent probabilities are the
/// (weighted) mean of its members' and whose BIO tag probabilities are the mean of its encoder members' (FP32 NLU
/// folders sharing one tokenizer and label set; n-gram members have no tag head). Loads wherever an NLU folder loads.
/// </summary>
public static class EnsembleVerb
{
    public static Command Create()
    {
        var members = new Argument<string[]>("members") { Description = "FP32 NLU model folders (same vocab.json/merges.txt and labels).", Arity = ArgumentArity.OneOrMore };
        var outDir = new Option<string>("--out") { Description = "Ensemble folder to write (members are copied into member-0, member-1, …).", Required = true };
        var weights = new Option<string?>("--weights") { Description = "Comma-separated intent weight per member, in member order (e.g. 1,1,1,0.5); default all 1. Written to config.json as member_weights." };
        var nlu = new Command("nlu", "Combine NLU models (encoders; n-gram models after the first member) into one ensemble teacher (mean of member probabilities).") { members, outDir, weights };
        nlu.SetAction((parse, ct) => StartupErrors.GuardAsync(() => TrainingConsole.GuardAsync(() =>
        {
            var sources = parse.GetValue(members)!;
            string output = parse.GetValue(outDir)!;
            NluEnsembleFolder.Write(output, sources, ParseWeights(parse.GetValue(weights), sources.Length));
            long bytes = Directory.GetFiles(output, "*.safetensors", SearchOption.AllDirectories).Sum(f => new FileInfo(f).Length);
            AnsiConsole.MarkupLine($"[green]ensemble[/] of {sources.Length} NLU members → {Markup.Escape(output)} (weights {bytes:N0} bytes)");
            return Task.FromResult(0);
        })));
        var cmd = new Command("ensemble", "Build an ensemble model folder.");
        cmd.Subcommands.Add(nlu);
        return cmd;
    }

    /// <summary>"1,1,1,0.5" → one weight per member; null when not given. A bad list is a one-line error.</summary>
    internal static IReadOnlyList<double>? ParseWeights(string? text, int members)
    {
        if (string.IsNullOrWhiteSpace(text)) return null;
        var parts = text.Split(',', StringSplitOptions.TrimEntries);
        var weights = new List<double>(parts.Length);
        foreach (var p in parts)
        {
            if (!double.TryParse(p, System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out double w) || !double.IsFinite(w) || w <= 0)
                throw new ArgumentException($"--weights: '{p}' is not a number > 0");
            weights.Add(w);
        }
        if (weights.Count != members) throw new ArgumentException($"--weights lists {weights.Count} weights for {members} members");
        return weights;
    }
}
