namespace MoltBot.Contracts.Memory;

/// <summary>
/// The time-series event log: every inbound/outbound message and every dialog event, with a millisecond UTC
/// timestamp, indexed by conversation and time. Appends are group-committed; the returned task completes only
/// once the event is durable (that is what "acknowledged" means).
/// </summary>
public interface IEventLog
{
    ValueTask AppendAsync(LoggedEvent loggedEvent, CancellationToken cancellationToken);

    /// <summary>Events with <paramref name="fromMs"/> ≤ TimestampMs ≤ <paramref name="toMs"/>, oldest first.</summary>
    /// <param name="conversationKey">One conversation (platform:conversationId), or null for all.</param>
    Task<IReadOnlyList<LoggedEvent>> RangeAsync(string? conversationKey, long fromMs, long toMs, int limit, CancellationToken cancellationToken);
}

/// <param name="Kind">See <see cref="EventKinds"/>.</param>
/// <param name="Text">Message text (already masked by the inbound filters), or a short description.</param>
/// <param name="DataJson">Structured details (intent, slots, state) as JSON, or null.</param>
public sealed record LoggedEvent(string ConversationKey, string UserKey, string Kind, long TimestampMs, string? Text, string? DataJson = null);

public static class EventKinds
{
    public const string MessageIn = "message.in";
    public const string MessageOut = "message.out";
    /// <summary>Dialog state changes use "dialog." + what happened (e.g. dialog.clarify, dialog.topic_switch).</summary>
    public const string DialogPrefix = "dialog.";
}
