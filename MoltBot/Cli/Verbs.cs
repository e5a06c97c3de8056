using System.CommandLine;

namespace MoltBot.Cli;

/// <summary>Every verb besides `run`, in the order `--help` lists them.</summary>
internal static class Verbs
{
    public static IEnumerable<Command> All()
    {
        yield return AuditVerb.Create(); yield return CertVerb.Create(); yield return ApiKeyVerb.Create(); // security (issue 9)
        yield break;
    }
}
