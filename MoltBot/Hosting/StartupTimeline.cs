using System.Diagnostics;
using Microsoft.Extensions.Hosting;

namespace MoltBot.Hosting;

/// <summary>
/// Milestones of one host's start-up in ms since the process started (the cold-start breakdown docs/performance.md
/// uses): Main entered, host build begun, host built, hosted services starting, the web server listening. One per host
/// (tests run several hosts in one process); the time Main was entered is per process.
/// </summary>
public sealed class StartupTimeline
{
    private static double? mainEnteredMs;
    private readonly Lock gate = new();
    private readonly List<(string What, double Ms)> marks = [];

    /// <summary>Called first thing in Main.</summary>
    public static void MainEntered() => mainEnteredMs ??= SinceProcessStart();

    public static double SinceProcessStart()
    {
        using var self = Process.GetCurrentProcess();
        return (DateTime.Now - self.StartTime).TotalMilliseconds;
    }

    public void Mark(string what)
    {
        double ms = SinceProcessStart();
        lock (gate) marks.Add((what, ms));
    }

    /// <summary>The milestones in the order taken.</summary>
    public IReadOnlyList<(string What, double Ms)> Milestones
    {
        get { lock (gate) return marks.ToList(); }
    }

    /// <summary>"Main 61 ms, host build begun 140 ms, host built 512 ms, …".</summary>
    public string Describe()
    {
        var parts = new List<string>();
        if (mainEnteredMs is { } main) parts.Add($"Main {main:F0} ms");
        parts.AddRange(Milestones.Select(m => $"{m.What} {m.Ms:F0} ms"));
        return string.Join(", ", parts);
    }

    /// <summary>
    /// Registered as the first hosted service: its StartingAsync marks when the hosted services start, and its
    /// StartedAsync runs right after Kestrel (which starts last) listens, before the other modules' StartedAsync
    /// (where the inference module waits for its remaining models).
    /// </summary>
    internal sealed class Service(StartupTimeline timeline, ILogger<StartupTimeline> logger) : IHostedLifecycleService
    {
        public Task StartingAsync(CancellationToken cancellationToken)
        {
            timeline.Mark("hosted services starting");
            return Task.CompletedTask;
        }

        public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

        public Task StartedAsync(CancellationToken cancellationToken)
        {
            timeline.Mark("listening");
            logger.LogInformation("Start-up timeline (since process start): {Timeline}", timeline.Describe());
            return Task.CompletedTask;
        }

        public Task StoppingAsync(CancellationToken cancellationToken) => Task.CompletedTask;

        public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

        public Task StoppedAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    }
}
