using System.Globalization;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using MoltBot.Contracts.Configuration;
using MoltBot.Contracts.Messaging;
using MoltBot.Contracts.Pipeline;

namespace MoltBot.Skills.Reminders;

/// <summary>
/// Fires reminders on time: sleeps (on the injected <see cref="TimeProvider"/>) until the next one is due or a new one
/// is added, then sends each due reminder to the channel and conversation it came from via <see cref="IOutboundQueue"/>.
/// It starts once the database is open (<see cref="ReminderStoreOpening"/>, after the first reply).
/// At start, reminders that fell due while MoltBot was down fire at once (marked late) or are marked missed.
/// A reminder is marked fired only after the outbound queue accepted it.
/// </summary>
public sealed class ReminderScheduler(
    ReminderStore store, ReminderStoreOpening opening, IOutboundQueue outbound, TimeProvider clock, IOptions<RemindersOptions> options, ILogger<ReminderScheduler> logger)
    : BackgroundService
{
    // Wake-ups from the skill (a new or cancelled reminder); at most one pending signal is needed.
    private readonly SemaphoreSlim _wake = new(0, 1);
    private static readonly TimeSpan MaxSleep = TimeSpan.FromMinutes(30);
    private static readonly TimeSpan RetryAfterFailure = TimeSpan.FromSeconds(5);

    public void Wake()
    {
        try
        {
            if (_wake.CurrentCount == 0) _wake.Release();
        }
        catch (SemaphoreFullException)
        {
            // Already signalled.
        }
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        await Task.Yield();
        try
        {
            // Deferred past the first reply (ReminderStoreOpening); reminders due meanwhile fire right after.
            await opening.Opened.WaitAsync(stoppingToken).ConfigureAwait(false);
        }
        catch (StartupException)
        {
            return; // the start-up reports it (ReminderStoreOpening.StartedAsync) and stops
        }
        catch (OperationCanceledException)
        {
            return; // stopped before the database was open
        }
        long startMs = clock.GetUtcNow().ToUnixTimeMilliseconds();
        foreach (var r in store.Due(startMs))
        {
            if (options.Value.FireLateOnStart)
            {
                await FireAsync(r, late: true, stoppingToken).ConfigureAwait(false);
            }
            else
            {
                store.Mark(r.Id, ReminderState.Missed, startMs);
                logger.LogWarning("Reminder {ReminderId} fell due while MoltBot was down; marked missed (Skills:Reminders:FireLateOnStart is false)", r.Id);
            }
        }

        while (!stoppingToken.IsCancellationRequested)
        {
            TimeSpan sleep = MaxSleep;
            try
            {
                long now = clock.GetUtcNow().ToUnixTimeMilliseconds();
                foreach (var r in store.Due(now)) await FireAsync(r, late: false, stoppingToken).ConfigureAwait(false);
                if (store.NextDueMs() is { } next)
                {
                    long wait = next - clock.GetUtcNow().ToUnixTimeMilliseconds();
                    sleep = TimeSpan.FromMilliseconds(Math.Clamp(wait, 0, (long)MaxSleep.TotalMilliseconds));
                }
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex)
            {
                logger.LogError(ex, "Reminder scheduler pass failed; retrying in {Retry}", RetryAfterFailure);
                sleep = RetryAfterFailure;
            }
            await SleepAsync(sleep, stoppingToken).ConfigureAwait(false);
        }
    }

    private async Task SleepAsync(TimeSpan sleep, CancellationToken stoppingToken)
    {
        if (sleep <= TimeSpan.Zero) return;
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
        var delay = Task.Delay(sleep, clock, cts.Token);
        var wake = _wake.WaitAsync(cts.Token);
        await Task.WhenAny(delay, wake).ConfigureAwait(false);
        await cts.CancelAsync().ConfigureAwait(false);
        try
        {
            await Task.WhenAll(delay, wake).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            // One of the two was cancelled by design.
        }
        if (wake.IsCompletedSuccessfully && delay.IsCompletedSuccessfully)
        {
            // Both fired together: the wake signal was consumed and the pass below covers it.
        }
    }

    private async Task FireAsync(Reminder r, bool late, CancellationToken cancellationToken)
    {
        var now = clock.GetUtcNow();
        bool reallyLate = late && now.ToUnixTimeMilliseconds() - r.DueMs > 60_000;
        string text = Format(r, reallyLate);
        using var scope = logger.BeginScope(new Dictionary<string, object> { ["ConversationId"] = r.ConversationId, ["Platform"] = r.Platform });
        await outbound.EnqueueAsync(new OutboundMessage
        {
            Kind = OutboundKind.Final,
            Platform = r.Platform,
            Account = r.Account,
            ConversationId = r.ConversationId,
            UserId = r.UserId,
            InReplyTo = "reminder:" + r.Id,
            Text = text,
            Language = r.Language,
            TimestampMs = now.ToUnixTimeMilliseconds(),
            Source = "skill:reminders",
        }, cancellationToken).ConfigureAwait(false);
        store.Mark(r.Id, ReminderState.Fired, now.ToUnixTimeMilliseconds());
        logger.LogInformation("Reminder {ReminderId} fired {Delay:F0} ms after its time{Late}", r.Id,
            now.ToUnixTimeMilliseconds() - r.DueMs, reallyLate ? " (late: MoltBot was down)" : "");
    }

    private static string Format(Reminder r, bool late)
    {
        string due = TimeZones.TryFind(r.TimeZone, out var zone)
            ? TimeZoneInfo.ConvertTime(DateTimeOffset.FromUnixTimeMilliseconds(r.DueMs), zone).ToString("yyyy-MM-dd HH:mm", CultureInfo.InvariantCulture)
            : DateTimeOffset.FromUnixTimeMilliseconds(r.DueMs).ToString("yyyy-MM-dd HH:mm 'UTC'", CultureInfo.InvariantCulture);
        if (r.Language == "zh")
            return late ? $"⏰ 提醒：{r.Text}（原定 {due}，当时我不在线，现在补上）" : $"⏰ 提醒：{r.Text}";
        return late ? $"⏰ Reminder: {r.Text} (this was due at {due}, while I was offline)" : $"⏰ Reminder: {r.Text}";
    }

    public override void Dispose()
    {
        base.Dispose();
        _wake.Dispose();
    }
}
