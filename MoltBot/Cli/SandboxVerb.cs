using System.CommandLine;
using MoltBot.DevTools.Sandbox;
using MoltBot.Hosting;
using Spectre.Console;

namespace MoltBot.Cli;

/// <summary>
/// `sandbox [--script FILE|DIR] [--users N] [--port P] [--keep-running]`: MoltBot with local fake platforms and a
/// user simulator; exit 1 if any message was lost or duplicated or an expectation failed.
/// </summary>
internal static class SandboxVerb
{
    public static Command Create()
    {
        var script = new Option<string?>("--script") { Description = "Story .json file or folder (test-stories format). Default: the bundled stories/basics.json." };
        var users = new Option<int>("--users") { Description = "Simulated users per platform (1..100); each plays every story.", DefaultValueFactory = _ => 1 };
        var port = new Option<int>("--port") { Description = "MoltBot's HTTP port on 127.0.0.1 (web chat); 0 = a free port.", DefaultValueFactory = _ => 0 };
        var keep = new Option<bool>("--keep-running") { Description = "After the script, print the web chat and fake platform URLs and run until Ctrl+C." };
        var timeout = new Option<int>("--reply-timeout") { Description = "Seconds a user waits for each reply before it counts as lost (1..600).", DefaultValueFactory = _ => 30 };
        var data = new Option<string?>("--data") { Description = "Keep the session's data in a new folder under this one (default: a temporary folder, deleted)." };
        var cmd = new Command("sandbox", "Run MoltBot against local fake WhatsApp, iMessage, Telegram, Discord and Slack servers plus the web chat, with simulated users playing a script.")
        {
            script, users, port, keep, timeout, data,
        };
        cmd.TreatUnmatchedTokensAsErrors = false;
        cmd.SetAction((parse, ct) => StartupErrors.GuardAsync(async () =>
        {
            var options = new SandboxOptions
            {
                Script = parse.GetValue(script),
                Users = parse.GetValue(users),
                Port = parse.GetValue(port),
                KeepRunning = parse.GetValue(keep),
                ReplyTimeoutSeconds = parse.GetValue(timeout),
                DataRoot = parse.GetValue(data),
                HostArgs = parse.UnmatchedTokens.ToArray(),
            };
            if (options.Validate() is { } error)
            {
                await Console.Error.WriteLineAsync("moltbot: " + error);
                return 2;
            }
            var console = AnsiConsole.Console;
            // Redirected to a file or CI log: one transcript line per message is easier to grep than 80-column wrapping.
            if (Console.IsOutputRedirected) console.Profile.Width = 240;
            var report = await new SandboxSession(options, console).RunAsync(ct);
            return report.ExitCode;
        }));
        return cmd;
    }
}
