using System.CommandLine;

namespace MoltBot.Cli;

/// <summary>Every verb besides `run`, in the order `--help` lists them.</summary>
internal static class Verbs
{
    public static IEnumerable<Command> All()
    {
        yield return TrainVerb.Create();
        yield return DistillVerb.Create();
        yield return QuantizeVerb.Create();
        yield return EvalVerb.Create();
    }
}
