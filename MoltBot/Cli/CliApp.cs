using System.CommandLine;

namespace MoltBot.Cli;

/// <summary>
/// The one executable's verbs. `run` (the default) starts the server; the other verbs are added by the modules'
/// issues (train, distill, quantize, eval, chat, replay, ...). `--help` lists them all.
/// </summary>
public static class CliApp
{
    public static RootCommand Create()
    {
        var root = new RootCommand("MoltBot — a self-hosted conversational AI gateway with in-process language models.");
        var run = RunVerb.Create();
        root.Subcommands.Add(run);
        // No verb means `run`: `dotnet run --project MoltBot -- --urls http://127.0.0.1:9000` starts the server.
        root.TreatUnmatchedTokensAsErrors = false;
        root.SetAction((parse, ct) => RunVerb.ExecuteAsync(parse.UnmatchedTokens.ToArray(), ct));
        foreach (var verb in Verbs.All()) root.Subcommands.Add(verb);
        return root;
    }

    public static Task<int> InvokeAsync(string[] args)
    {
        var parse = Create().Parse(args);
        // The generic host handles SIGTERM/Ctrl+C itself (graceful drain); System.CommandLine must not kill the process.
        return parse.InvokeAsync(new InvocationConfiguration { ProcessTerminationTimeout = null });
    }
}
