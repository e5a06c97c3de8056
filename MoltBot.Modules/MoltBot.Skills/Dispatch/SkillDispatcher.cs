using System.Diagnostics;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using MoltBot.Contracts.Inference;
using MoltBot.Contracts.Skills;

namespace MoltBot.Skills.Dispatch;

/// <summary>
/// Matches a turn to a skill (intent, then keywords, then patterns) and runs it under its budget: a per-skill
/// concurrency gate, a timeout, and exception containment. A faulty or hanging skill costs only its own slots; the
/// caller always gets a <see cref="SkillResult"/> (an apology in the user's language when the skill failed).
/// </summary>
internal sealed class SkillDispatcher(
    SkillRegistry registry, IOptions<SkillsOptions> options, TimeProvider clock, ILogger<SkillDispatcher> logger) : ISkillDispatcher
{
    public IReadOnlyList<SkillManifest> Skills => registry.Manifests;

    public SkillManifest? Match(string text, NluResult nlu)
    {
        var entries = registry.Entries;
        if (!string.IsNullOrEmpty(nlu.Intent) && nlu.Confidence >= options.Value.MinIntentConfidence)
        {
            foreach (var e in entries)
            {
                if (e.Triggers.MatchesIntent(nlu.Intent)) return e.Manifest;
            }
        }

        string normalized = TextMatch.Normalize(text);
        SkillEntry? best = null;
        int bestLength = 0;
        foreach (var e in entries)
        {
            int length = e.Triggers.LongestKeyword(normalized);
            if (length > bestLength)
            {
                best = e;
                bestLength = length;
            }
        }
        if (best is not null) return best.Manifest;

        foreach (var e in entries)
        {
            if (e.Triggers.MatchesPattern(text)) return e.Manifest;
        }
        return null;
    }

    public async Task<SkillResult> ExecuteAsync(string skillId, SkillContext context, CancellationToken cancellationToken)
    {
        string language = context.Language == "zh" ? "zh" : "en";
        // A reload may retire the entry between lookup and entry; look it up again then.
        for (int attempt = 0; attempt < 3; attempt++)
        {
            var entry = registry.Find(skillId);
            if (entry is null)
            {
                logger.LogWarning("Skill {SkillId} requested but not registered (trace {TraceId})", skillId, context.TraceId);
                return new SkillResult { Text = SkillReplies.Unknown(language, skillId), Succeeded = false };
            }
            if (MissingSlot(entry.Manifest, context) is { } missing)
            {
                return SkillResult.Ask(missing.Slot, Question(missing, language));
            }
            if (!entry.TryEnter()) continue;
            return await RunAsync(entry, context, language, cancellationToken).ConfigureAwait(false);
        }
        return new SkillResult { Text = SkillReplies.Busy(language, skillId), Succeeded = false };
    }

    private static SlotRequirement? MissingSlot(SkillManifest manifest, SkillContext context) =>
        manifest.RequiredSlots.FirstOrDefault(s => !context.Slots.TryGetValue(s.Slot, out var v) || string.IsNullOrWhiteSpace(v));

    private static string Question(SlotRequirement slot, string language) =>
        slot.Question.TryGetValue(language, out var q) ? q
        : slot.Question.TryGetValue("en", out var en) ? en
        : slot.Question.Values.FirstOrDefault() ?? SkillReplies.AskSlot(language, slot.Slot);

    /// <summary>Runs one call; the entry has been entered and is left when the skill's task really ends.</summary>
    private async Task<SkillResult> RunAsync(SkillEntry entry, SkillContext context, string language, CancellationToken cancellationToken)
    {
        using var scope = logger.BeginScope(new Dictionary<string, object?>
        {
            ["SkillId"] = entry.Id,
            ["TraceId"] = context.TraceId,
            ["ConversationId"] = context.Envelope.ConversationId,
            ["Platform"] = context.Envelope.Platform,
        });

        bool acquired;
        try
        {
            // Waiting for a slot counts against the same budget as running.
            acquired = await entry.AcquireAsync(entry.Timeout, cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            entry.Leave();
            throw;
        }
        if (!acquired)
        {
            entry.Leave();
            logger.LogWarning("Skill {SkillId} has all {Max} slots busy for {Timeout}; refusing (trace {TraceId})",
                entry.Id, entry.MaxConcurrency, entry.Timeout, context.TraceId);
            return new SkillResult { Text = SkillReplies.Busy(language, entry.Id), Succeeded = false };
        }

        var timeoutSource = new CancellationTokenSource(entry.Timeout, clock);
        var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, timeoutSource.Token);
        // Taken before the run can finish (and dispose the source): the wait below stops on it too.
        var stop = linked.Token;
        long start = Stopwatch.GetTimestamp();
        // Task.Run: a skill that blocks synchronously before its first await must not block the caller's thread. A
        // built-in that only computes (SkillEntry.RunsInline) starts here: one thread-pool hop fewer per turn.
        var run = entry.RunsInline ? StartInline(entry, context, linked.Token) : Task.Run(() => entry.Skill.ExecuteAsync(context, linked.Token), CancellationToken.None);
        // The slot is given back when the skill really stops, not when we stop waiting: a hung skill keeps its slot.
        _ = run.ContinueWith(t =>
        {
            _ = t.Exception; // observed: a late fault after a timeout is not an unobserved-task crash
            entry.ReleaseSlot();
            entry.Leave();
            linked.Dispose();
            timeoutSource.Dispose();
        }, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);

        try
        {
            // One timer per call: the skill's timeout source also ends the wait (for a skill that ignores its token).
            var result = await run.WaitAsync(stop).ConfigureAwait(false);
            if (result is null) throw new InvalidOperationException($"skill '{entry.Id}' returned no result");
            if (logger.IsEnabled(LogLevel.Debug)) // no argument array and boxing per call when debug logging is off
                logger.LogDebug("Skill {SkillId} answered in {Elapsed:F1} ms", entry.Id, Stopwatch.GetElapsedTime(start).TotalMilliseconds);
            return result;
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            throw; // the caller gave up (its own timeout or shutdown): not the skill's fault
        }
        catch (Exception ex) when (ex is TimeoutException || (ex is OperationCanceledException && timeoutSource.IsCancellationRequested))
        {
            CancelQuietly(linked);
            logger.LogError("Skill {SkillId} timed out after {Timeout} (trace {TraceId})", entry.Id, entry.Timeout, context.TraceId);
            return new SkillResult { Text = SkillReplies.TimedOut(language, entry.Id), Succeeded = false };
        }
        catch (Exception ex)
        {
            logger.LogError(ex, "Skill {SkillId} failed (trace {TraceId})", entry.Id, context.TraceId);
            return new SkillResult { Text = SkillReplies.Failed(language, entry.Id), Succeeded = false };
        }
    }

    /// <summary>Starts an inline skill; whatever it throws before returning its task fails the task, as under Task.Run.</summary>
    private static Task<SkillResult> StartInline(SkillEntry entry, SkillContext context, CancellationToken token)
    {
        try
        {
            return entry.Skill.ExecuteAsync(context, token)
                ?? Task.FromException<SkillResult>(new InvalidOperationException($"skill '{entry.Id}' returned no task"));
        }
        catch (Exception ex)
        {
            return Task.FromException<SkillResult>(ex);
        }
    }

    private static void CancelQuietly(CancellationTokenSource source)
    {
        try
        {
            source.Cancel();
        }
        catch (ObjectDisposedException)
        {
            // The skill finished in the meantime.
        }
        catch (AggregateException)
        {
            // A skill's cancellation callback threw; the skill is abandoned either way.
        }
    }
}
