using LiteDB;
using Microsoft.Extensions.Options;
using MoltBot.Contracts.Admin;
using MoltBot.Contracts.Memory;
using MoltBot.Memory.Storage;

namespace MoltBot.Memory;

/// <summary>
/// Long-term conversation storage: a message goes into "messages" and its conversation's counters (one LiteDB
/// group commit) and into the event log (an event-log group commit), both issued at once and awaited together;
/// then into the short-term buffer and (user messages) vector recall.
/// </summary>
public sealed class ConversationStore(
    MemoryDatabase database, GroupCommitWriter writer, EventLog eventLog, ShortTermMemory shortTerm, VectorMemory vectors, IOptions<MemoryOptions> options)
    : IConversationStore, IConversationReader
{
    public async ValueTask RecordMessageAsync(ConversationMessage m, CancellationToken cancellationToken)
    {
        var message = new MessageDoc
        {
            Id = m.Id, Conv = m.ConversationKey, User = m.UserKey, Direction = m.Direction, Text = m.Text, Ts = m.TimestampMs,
            Intent = m.Intent, Language = m.Language,
        };
        string kind = m.Direction == "in" ? EventKinds.MessageIn : EventKinds.MessageOut;
        var evt = EventLog.ToRecord(new LoggedEvent(m.ConversationKey, m.UserKey, kind, m.TimestampMs, m.Text,
            m.Intent is null ? null : System.Text.Json.JsonSerializer.Serialize(new { intent = m.Intent, language = m.Language })), m.Id);
        long order = shortTerm.NextOrder();
        var stored = writer.WriteAsync((WriteBatch batch) =>
        {
            bool added = batch.Messages.Upsert(message);
            var conv = batch.Conversation(m.ConversationKey, () => new ConversationDoc { Id = m.ConversationKey, User = m.UserKey, StartedMs = m.TimestampMs });
            if (added) conv.MessageCount++;
            conv.LastActivityMs = Math.Max(conv.LastActivityMs, m.TimestampMs);
        }, cancellationToken).AsTask();
        // Acknowledged only once both stores have it (and, for a user message, vector recall): issued together, awaited once.
        var logged = eventLog.AppendAsync(evt, cancellationToken).AsTask();
        var recalled = m.Direction == "in" && m.Embedding is { Length: > 0 } embedding && options.Value.RecallMessages && !string.IsNullOrWhiteSpace(m.Text)
            ? (Task)vectors.AddAsync(m.UserKey, VectorMemory.MessageKind, m.Id, m.Text, m.TimestampMs, embedding, extraWrite: null, cancellationToken)
            : Task.CompletedTask;
        await Task.WhenAll(stored, logged, recalled).ConfigureAwait(false);
        shortTerm.OnCommitted(m.ConversationKey, m.Id, new Turn(m.Direction == "in" ? "user" : "assistant", m.Text, m.TimestampMs), order);
    }

    public Task<IReadOnlyList<ConversationSummary>> ListAsync(int skip, int take, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        IReadOnlyList<ConversationSummary> list = database.Collection<ConversationDoc>(Collections.Conversations).Query()
            .OrderByDescending(x => x.LastActivityMs).Skip(Math.Max(0, skip)).Limit(Math.Clamp(take, 0, 10_000)).ToList()
            .Select(c => new ConversationSummary(c.Id, c.User, c.MessageCount, c.LastActivityMs)).ToList();
        return Task.FromResult(list);
    }

    public Task<IReadOnlyList<StoredMessage>> MessagesAsync(string conversationKey, int take, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        var docs = database.Collection<MessageDoc>(Collections.Messages).Query()
            .Where(x => x.Conv == conversationKey).OrderByDescending(x => x.Ts).Limit(Math.Clamp(take, 0, 10_000)).ToList();
        docs.Reverse();
        IReadOnlyList<StoredMessage> list = docs.Select(d => new StoredMessage(d.Id, d.Conv, d.User, d.Direction, d.Text, d.Ts)).ToList();
        return Task.FromResult(list);
    }
}
