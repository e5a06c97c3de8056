using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using MoltBot.Contracts.Configuration;

namespace MoltBot.Skills.Reminders;

/// <summary>
/// Opens the reminder database off the path to the first reply: the process's first LiteDB file costs hundreds of
/// milliseconds (LiteDB's code, the mapper, the index expressions) that the first turn does not need. The open starts
/// when the first reply has been sent (<see cref="ReminderFirstReplyObserver"/>) or Skills:Reminders:OpenDelayMs after
/// the host began starting, whichever comes first; a reminder skill call before that opens it itself (or waits for the
/// open under way). The scheduler fires nothing before the open (<see cref="Opened"/>), so due reminders fire right
/// after it. StartedAsync waits for the open, so a database that cannot be opened still stops start-up with its one
/// line (exit code 2), later by at most the delay. OpenDelayMs 0 opens it while the host starts, as before.
/// </summary>
public sealed class ReminderStoreOpening(ReminderStore store, IOptions<RemindersOptions> options, ILogger<ReminderStoreOpening> logger) : IHostedLifecycleService, IDisposable
{
    private readonly TaskCompletionSource _wanted = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly CancellationTokenSource _stopping = new();
    private int _started;
    private int _disposed;

    /// <summary>
    /// Completes once the database is open (by this service or by an earlier reminder request); faults with the
    /// <see cref="StartupException"/> when it cannot be.
    /// </summary>
    public Task Opened => store.WhenOpen;

    /// <summary>Open now if the delay has not passed yet (the first reply was sent).</summary>
    public void OpenSoon() => _wanted.TrySetResult();

    /// <summary>True once something asked for the open (the first reply); set synchronously by <see cref="OpenSoon"/> (read by tests).</summary>
    internal bool OpenRequested => _wanted.Task.IsCompleted;

    public Task StartingAsync(CancellationToken cancellationToken)
    {
        if (Interlocked.Exchange(ref _started, 1) == 1) return Task.CompletedTask;
        int delayMs = options.Value.OpenDelayMs;
        if (delayMs == 0)
        {
            store.Open(); // throws the StartupException here: start-up stops before anything listens
            return Task.CompletedTask;
        }
        _ = OpenLaterAsync(delayMs);
        return Task.CompletedTask;
    }

    private async Task OpenLaterAsync(int delayMs)
    {
        try
        {
            // Wall clock on purpose (not the injected clock): this is CPU scheduling, and a host on a fake clock that
            // never advances (replay, tests) must still open its reminders.
            using var delayStop = CancellationTokenSource.CreateLinkedTokenSource(_stopping.Token);
            var delay = Task.Delay(TimeSpan.FromMilliseconds(delayMs), TimeProvider.System, delayStop.Token);
            bool asked = await Task.WhenAny(_wanted.Task, delay).ConfigureAwait(false) == _wanted.Task;
            await delayStop.CancelAsync().ConfigureAwait(false);
            if (_stopping.IsCancellationRequested) return;
            long t0 = System.Diagnostics.Stopwatch.GetTimestamp();
            bool wasOpen = store.IsOpen;
            await Task.Run(store.Open).ConfigureAwait(false);
            if (!wasOpen)
            {
                logger.LogInformation("Reminder database opened {Why} in {Elapsed:F0} ms", asked ? "after the first reply" : "after Skills:Reminders:OpenDelayMs",
                    System.Diagnostics.Stopwatch.GetElapsedTime(t0).TotalMilliseconds);
            }
        }
        catch (StartupException)
        {
            // Reported through Opened (the store's WhenOpen): StartedAsync rethrows it.
        }
        catch (ObjectDisposedException)
        {
            // The host stopped and disposed the store before the delay ended.
        }
        catch (Exception ex)
        {
            logger.LogError(ex, "Reminder database open failed");
        }
    }

    /// <summary>Same as <see cref="StartingAsync"/> (once) for a caller that only runs the IHostedService methods.</summary>
    public Task StartAsync(CancellationToken cancellationToken) => StartingAsync(cancellationToken);

    /// <summary>After every module and the web server started: a database that cannot be opened stops start-up here.</summary>
    public async Task StartedAsync(CancellationToken cancellationToken)
    {
        using var wait = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, _stopping.Token);
        try
        {
            await Opened.WaitAsync(wait.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (wait.IsCancellationRequested)
        {
            // Stopped (e.g. SIGTERM) before the database was open: nothing left to wait for.
        }
    }

    public async Task StoppingAsync(CancellationToken cancellationToken) => await _stopping.CancelAsync().ConfigureAwait(false);

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StoppedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    // Registered as itself and as a hosted service, so the container disposes it twice: once is enough.
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 1) return;
        _stopping.Cancel();
        _stopping.Dispose();
    }
}
