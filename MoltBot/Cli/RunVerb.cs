using System.CommandLine;
using Microsoft.Extensions.Options;
using MoltBot.Contracts.Configuration;
using MoltBot.Hosting;

namespace MoltBot.Cli;

/// <summary>`run`: start the server on the configured defaults.</summary>
public static class RunVerb
{
    public static Command Create()
    {
        var run = new Command("run", "Start MoltBot (default verb): channels, web chat and APIs on http://127.0.0.1:8080.")
        {
            TreatUnmatchedTokensAsErrors = false,
        };
        run.SetAction((parse, ct) => ExecuteAsync(parse.UnmatchedTokens.ToArray(), ct));
        return run;
    }

    /// <param name="configArgs">Configuration overrides: --Section:Key value, --Section:Key=value, --urls URL.</param>
    public static async Task<int> ExecuteAsync(string[] configArgs, CancellationToken cancellationToken)
    {
        if (configArgs.FirstOrDefault(a => !a.StartsWith('-') && !a.Contains('=')) is { } stray && !IsOptionValue(configArgs, stray))
        {
            await Console.Error.WriteLineAsync($"moltbot: unknown verb or argument '{stray}'; see 'moltbot --help'.");
            return 2;
        }
        return await StartupErrors.GuardAsync(async () =>
        {
            await using var app = MoltBotApp.Build(new MoltBotAppOptions { Args = configArgs });
            await app.RunAsync();
            return 0;
        });
    }

    private static bool IsOptionValue(string[] args, string token)
    {
        int i = Array.IndexOf(args, token);
        return i > 0 && args[i - 1].StartsWith("--", StringComparison.Ordinal) && !args[i - 1].Contains('=');
    }
}
