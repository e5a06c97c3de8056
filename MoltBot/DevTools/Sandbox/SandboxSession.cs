using System.Globalization;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using MoltBot.Contracts.Configuration;
using MoltBot.Contracts.Inference;
using MoltBot.Contracts.Pipeline;
using MoltBot.DevTools.Sandbox.Simulated;
using MoltBot.Hosting;
using Spectre.Console;

namespace MoltBot.DevTools.Sandbox;

/// <summary>
/// `moltbot sandbox`: the five fake platform servers on 127.0.0.1 (port 0) with credentials made for this session,
/// MoltBot on its embedded defaults with every channel adapter pointed at them and a fresh data directory, and a
/// user simulator playing the script on every platform plus the web chat. Nothing leaves the machine.
/// </summary>
public sealed class SandboxSession(SandboxOptions options, IAnsiConsole console)
{
    public const string DefaultScriptResource = "MoltBot.DevTools.Sandbox.default-script.json";

    /// <summary>How long the channel adapters may take to connect to their fakes.</summary>
    private static readonly TimeSpan ConnectTimeout = TimeSpan.FromSeconds(30);

    /// <summary>Runs the script (and, with KeepRunning, waits for Ctrl+C or <paramref name="cancellationToken"/>).</summary>
    public async Task<SandboxReport> RunAsync(CancellationToken cancellationToken)
    {
        var stories = await LoadScriptAsync(options.Script, cancellationToken).ConfigureAwait(false);
        string root = options.DataRoot is { } dataRoot
            ? Directory.CreateDirectory(Path.Combine(Path.GetFullPath(dataRoot), "sandbox-" + DateTime.UtcNow.ToString("yyyyMMdd-HHmmss-fff", CultureInfo.InvariantCulture))).FullName
            : Directory.CreateTempSubdirectory("moltbot-sandbox").FullName;
        var platforms = SimulatedPlatform.All();
        try
        {
            foreach (var p in platforms) await p.StartAsync(cancellationToken).ConfigureAwait(false);
            string[] args =
            [
                "--urls", $"http://127.0.0.1:{options.Port.ToString(CultureInfo.InvariantCulture)}",
                "--Storage:DataDirectory", Path.Combine(root, "data"),
                "--Log:File", "false",
                "--Log:Level", "Warning",
                .. platforms.SelectMany(p => p.Settings).SelectMany(kv => new[] { "--" + kv.Key, kv.Value }),
                .. options.HostArgs,
            ];
            var app = MoltBotApp.Build(new MoltBotAppOptions { Args = args });
            await using (app.ConfigureAwait(false))
            {
                await app.StartAsync(cancellationToken).ConfigureAwait(false);
                // Ctrl+C stops the host (its console lifetime); the sandbox follows.
                using var stopping = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, app.Lifetime.ApplicationStopping);
                try
                {
                    return await RunAgainstAsync(app, platforms, stories, root, stopping.Token).ConfigureAwait(false);
                }
                finally
                {
                    // Web chat sockets close before the host stops, so the gateway sees normal closures.
                    foreach (var p in platforms.OfType<WebChatUsers>()) await p.DisposeAsync().ConfigureAwait(false);
                    await app.StopAsync(CancellationToken.None).ConfigureAwait(false);
                }
            }
        }
        finally
        {
            foreach (var p in platforms) await p.DisposeAsync().ConfigureAwait(false);
            if (options.DataRoot is null)
            {
                try { Directory.Delete(root, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
            }
        }
    }

    private async Task<SandboxReport> RunAgainstAsync(WebApplication app, IReadOnlyList<SimulatedPlatform> platforms, IReadOnlyList<Story> stories,
        string root, CancellationToken cancellationToken)
    {
        var url = new Uri(app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First());
        foreach (var p in platforms) await p.AttachAsync(url, cancellationToken).ConfigureAwait(false);
        await WaitForChannelsAsync(app.Services, platforms, cancellationToken).ConfigureAwait(false);

        var transcript = new SandboxTranscript(console);
        transcript.Header(url.ToString(), platforms.Where(p => p is not WebChatUsers).Select(p => (p.Name, p.Url)), Path.Combine(root, "data"));
        transcript.Line($"[bold]script[/]: {stories.Count} stor(ies) × {options.Users} user(s) × {platforms.Count} platforms " +
                        $"= {stories.Count * options.Users * platforms.Count} conversation(s), {stories.Sum(s => s.Steps.Count) * options.Users * platforms.Count} message(s)");
        var simulator = new UserSimulator(platforms, transcript, app.Services.GetService<INluEngine>(), TimeSpan.FromSeconds(options.ReplyTimeoutSeconds));
        SandboxReport report;
        try
        {
            report = await simulator.RunAsync(stories, options.Users, cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // Ctrl+C during the script: stop cleanly; an unfinished script is not a pass.
            transcript.Line("[yellow]interrupted[/] before the script finished; stopping…");
            return new SandboxReport([], [new StepFailure("", "", "", 0, "", "interrupted before the script finished")]);
        }
        transcript.Summary(report);

        if (options.KeepRunning)
        {
            transcript.Line($"[bold]keep running[/]: web chat [link]{Markup.Escape(url.ToString())}[/]; fake platforms:");
            foreach (var p in platforms.Where(p => p is not WebChatUsers)) transcript.Line($"  {Markup.Escape(p.Name)}: {Markup.Escape(p.Url)}");
            transcript.Line("Press Ctrl+C to stop.");
            try
            {
                await Task.Delay(Timeout.Infinite, cancellationToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                transcript.Line("stopping…");
            }
        }
        return report;
    }

    /// <summary>Every enabled adapter must be connected to its fake before users write (Discord events are not queued before IDENTIFY).</summary>
    private static async Task WaitForChannelsAsync(IServiceProvider services, IReadOnlyList<SimulatedPlatform> platforms, CancellationToken cancellationToken)
    {
        var names = platforms.Select(p => p.Name).ToHashSet();
        var adapters = services.GetServices<IChannelAdapter>().Where(a => names.Contains(a.Platform)).DistinctBy(a => a.Platform).ToList();
        var deadline = DateTime.UtcNow + ConnectTimeout;
        while (adapters.Any(a => a.State != ChannelState.Connected))
        {
            if (DateTime.UtcNow > deadline)
            {
                string states = string.Join(", ", adapters.Select(a => $"{a.Platform}={a.State}"));
                throw new StartupException($"sandbox: channel adapters did not connect to the fake platforms within {ConnectTimeout.TotalSeconds:F0} s ({states}).");
            }
            await Task.Delay(50, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>The script's stories: a file or folder in the test-stories format, or the bundled default.</summary>
    public static async Task<IReadOnlyList<Story>> LoadScriptAsync(string? path, CancellationToken cancellationToken)
    {
        if (path is not null) return (await StoryRunner.LoadAsync(path, cancellationToken).ConfigureAwait(false)).Select(s => s.Story).ToList();
        await using var stream = typeof(SandboxSession).Assembly.GetManifestResourceStream(DefaultScriptResource)
            ?? throw new InvalidOperationException($"the default sandbox script ({DefaultScriptResource}) is not embedded in this build");
        return await StoryRunner.ParseAsync(stream, "default sandbox script (stories/basics.json)", cancellationToken).ConfigureAwait(false);
    }
}
