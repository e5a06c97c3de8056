using System.CommandLine;
using MoltBot.DevTools;
using MoltBot.Hosting;

namespace MoltBot.Cli;

/// <summary>`replay TRACE`: re-run a recorded trace against this build; exit 1 on any difference.</summary>
internal static class ReplayVerb
{
    public static Command Create()
    {
        var trace = new Argument<string>("trace") { Description = "A trace .jsonl file or a folder of them (data/traces)." };
        var cmd = new Command("replay", "Re-execute a recorded trace deterministically and diff decisions and replies (exit 1 on difference).")
        {
            trace,
        };
        cmd.TreatUnmatchedTokensAsErrors = false;
        cmd.SetAction((parse, ct) => StartupErrors.GuardAsync(async () =>
        {
            var events = await TraceFile.ReadAsync(parse.GetValue(trace)!, ct);
            var result = await new TraceReplayer().ReplayAsync(events, parse.UnmatchedTokens.ToArray(), ct);
            foreach (var d in result.Differences)
            {
                Console.WriteLine($"DIFF message {d.MessageId} stage {d.Stage}");
                Console.WriteLine($"  recorded: {d.Expected}");
                Console.WriteLine($"  replayed: {d.Actual}");
            }
            Console.WriteLine(result.Differences.Count == 0
                ? $"replayed {result.Messages} message(s): no differences"
                : $"replayed {result.Messages} message(s): {result.Differences.Count} difference(s)");
            return result.Differences.Count == 0 ? 0 : 1;
        }));
        return cmd;
    }
}
