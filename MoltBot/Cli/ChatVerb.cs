using System.CommandLine;
using MoltBot.Contracts.Messaging;
using MoltBot.Contracts.Pipeline;
using MoltBot.DevTools;
using MoltBot.Hosting;

namespace MoltBot.Cli;

/// <summary>`chat`: talk to MoltBot in the terminal, through the same pipeline as every platform.</summary>
internal static class ChatVerb
{
    public static Command Create()
    {
        var user = new Option<string>("--user") { Description = "User id to chat as (memory and reminders follow it).", DefaultValueFactory = _ => Environment.UserName };
        var cmd = new Command("chat", "Talk to MoltBot in the terminal (one line per message; /quit or end of input to leave).") { user };
        cmd.TreatUnmatchedTokensAsErrors = false;
        cmd.SetAction((parse, ct) => StartupErrors.GuardAsync(async () =>
        {
            var adapter = new ConsoleChannelAdapter(Console.Out);
            string userId = parse.GetValue(user)!;
            // The chat session serves no HTTP: a free loopback port keeps it from clashing with a running server.
            string[] args = ["--urls", "http://127.0.0.1:0", "--Log:Level", "Warning", .. parse.UnmatchedTokens];
            await using var app = MoltBotApp.Build(new MoltBotAppOptions
            {
                Args = args,
                Configure = b => b.Services.AddSingleton<IChannelAdapter>(adapter),
            });
            await app.StartAsync(ct);
            var queue = app.Services.GetRequiredService<IInboundQueue>();
            var clock = app.Services.GetRequiredService<TimeProvider>();
            bool interactive = !Console.IsInputRedirected;
            while (!ct.IsCancellationRequested)
            {
                if (interactive) Console.Write("you> ");
                string? line = await Console.In.ReadLineAsync(ct);
                if (line is null || line.Trim() == "/quit") break;
                if (string.IsNullOrWhiteSpace(line)) continue;
                var envelope = new Envelope
                {
                    Id = Guid.NewGuid().ToString("N"),
                    Platform = Platforms.Cli,
                    ConversationId = "cli-" + userId,
                    UserId = userId,
                    Text = line,
                    TimestampMs = clock.GetUtcNow().ToUnixTimeMilliseconds(),
                };
                await queue.EnqueueAsync(envelope, ct);
                await adapter.WaitForReplyAsync(envelope.Id, ct);
            }
            await app.StopAsync(CancellationToken.None);
            return 0;
        }));
        return cmd;
    }
}
