using LiteDB;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using MoltBot.Contracts.Memory;
using MoltBot.Memory.Storage;

namespace MoltBot.Memory;

/// <summary>The time-series event log in the "events" collection, indexed by conversation+time and by time.</summary>
public sealed class EventLog(MemoryDatabase database, GroupCommitWriter writer, IOptions<MemoryOptions> options, TimeProvider clock, ILogger<EventLog> logger) : IEventLog
{
    public ValueTask AppendAsync(LoggedEvent loggedEvent, CancellationToken cancellationToken)
    {
        var doc = ToDoc(loggedEvent, null);
        return writer.WriteAsync(db => db.GetCollection<EventDoc>(Collections.Events).Insert(doc), cancellationToken);
    }

    internal static EventDoc ToDoc(LoggedEvent e, string? messageId) => new()
    {
        Id = ObjectId.NewObjectId(),
        Conv = e.ConversationKey,
        User = e.UserKey,
        Kind = e.Kind,
        Ts = e.TimestampMs,
        ConvTime = EventDoc.ConvTimeKey(e.ConversationKey, e.TimestampMs),
        Text = e.Text,
        Data = e.DataJson,
        Ref = messageId,
    };

    internal static LoggedEvent FromDoc(EventDoc d) => new(d.Conv, d.User, d.Kind, d.Ts, d.Text, d.Data);

    public Task<IReadOnlyList<LoggedEvent>> RangeAsync(string? conversationKey, long fromMs, long toMs, int limit, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        var events = database.Collection<EventDoc>(Collections.Events);
        limit = Math.Max(0, limit);
        var docs = conversationKey is null
            ? events.Query().Where(Query.Between("Ts", fromMs, toMs)).OrderBy("Ts").Limit(limit).ToList()
            : events.Query().Where(Query.Between("ConvTime", EventDoc.ConvTimeKey(conversationKey, fromMs), EventDoc.ConvTimeKey(conversationKey, toMs)))
                .OrderBy("ConvTime").Limit(limit).ToList();
        // Same-millisecond events keep their append order (ObjectIds increase).
        IReadOnlyList<LoggedEvent> result = docs.OrderBy(d => d.Ts).ThenBy(d => d.Id).Select(FromDoc).ToList();
        return Task.FromResult(result);
    }

    /// <summary>The last <paramref name="count"/> message events of a conversation, oldest first (short-term rebuild).</summary>
    internal IReadOnlyList<EventDoc> LastMessages(string conversationKey, int count)
    {
        var events = database.Collection<EventDoc>(Collections.Events);
        string from = EventDoc.ConvTimeKey(conversationKey, 0), to = EventDoc.ConvTimeKey(conversationKey, long.MaxValue / 1000);
        var docs = events.Query()
            .Where(Query.Between("ConvTime", from, to))
            .Where(Query.In("Kind", EventKinds.MessageIn, EventKinds.MessageOut))
            .OrderByDescending("ConvTime").Limit(count).ToList();
        docs.Reverse();
        return docs;
    }

    /// <summary>Applies Memory:EventRetentionDays. Returns the number of events deleted.</summary>
    public async Task<int> ApplyRetentionAsync(CancellationToken cancellationToken)
    {
        int days = options.Value.EventRetentionDays;
        if (days <= 0) return 0;
        long cutoff = clock.GetUtcNow().AddDays(-days).ToUnixTimeMilliseconds();
        int deleted = 0;
        await writer.WriteAsync(db => deleted = db.GetCollection<EventDoc>(Collections.Events).DeleteMany(Query.LT("Ts", cutoff)), cancellationToken).ConfigureAwait(false);
        if (deleted > 0) logger.LogInformation("Event log retention removed {Count} events older than {Days} days", deleted, days);
        return deleted;
    }
}
