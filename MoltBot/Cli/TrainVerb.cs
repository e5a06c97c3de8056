using System.CommandLine;
using MoltBot.Contracts.Configuration;
using MoltBot.Hosting;
using MoltBot.Inference.Training.Corpus;
using Spectre.Console;

namespace MoltBot.Cli;

/// <summary>`train corpus|nlu|lm`: build the bilingual corpus from its templates, or train a teacher model.</summary>
public static class TrainVerb
{
    public static Command Create()
    {
        var train = new Command("train", "Build the corpus or train a teacher model (NLU encoder or decoder LM) from scratch or a checkpoint.");
        train.Subcommands.Add(CorpusCommand());
        return train;
    }

    private static Command CorpusCommand()
    {
        var dir = new Option<string>("--corpus") { Description = "Corpus folder holding nlu/templates, nlu/slots and dialog/.", DefaultValueFactory = _ => Path.Combine("models", "corpus") };
        var seed = new Option<int>("--seed") { Description = "Seed for the split and the slot filling.", DefaultValueFactory = _ => 20261123 };
        var cmd = new Command("corpus", "Expand the NLU and dialog templates into train/dev/test JSONL (deterministic; split by phrasing).") { dir, seed };
        cmd.SetAction((parse, ct) => StartupErrors.GuardAsync(() =>
        {
            string root = parse.GetValue(dir)!;
            int s = parse.GetValue(seed);
            var nlu = Guard(() => NluCorpusBuilder.Build(Path.Combine(root, "nlu"), new NluCorpusOptions { Seed = s }));
            NluCorpusBuilder.Write(nlu, Path.Combine(root, "nlu"));
            var dialogs = Guard(() => DialogCorpusBuilder.Build(Path.Combine(root, "dialog"), Path.Combine(root, "nlu", "slots"), new DialogCorpusOptions { Seed = s }));
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
        }));
        return cmd;
    }

    /// <summary>Corpus and data errors are user errors: one line naming the file (and line), exit code 2.</summary>
    internal static T Guard<T>(Func<T> body)
    {
        try
        {
            return body();
        }
        catch (Exception e) when (e is NluDataException or FileNotFoundException or DirectoryNotFoundException or InvalidDataException or FormatException)
        {
            throw new StartupException(e.Message, e);
        }
    }
}
