using System.CommandLine;

namespace MoltBot.Cli;

/// <summary>Every verb besides `run`, in the order `--help` lists them.</summary>
internal static class Verbs
{
    public static IEnumerable<Command> All()
    {
        yield return ChatVerb.Create();
        yield return ReplayVerb.Create();
        yield return PerfVerb.Create();
        yield return TestStoriesVerb.Create();
        yield return SandboxVerb.Create();
        yield return AuditVerb.Create();
        yield return CertVerb.Create();
        yield return ApiKeyVerb.Create();
        yield return TrainVerb.Create();
        yield return PretrainVerb.Create();
        yield return DistillVerb.Create();
        yield return EnsembleVerb.Create();
        yield return QuantizeVerb.Create();
        yield return EvalVerb.Create();
    }
}
