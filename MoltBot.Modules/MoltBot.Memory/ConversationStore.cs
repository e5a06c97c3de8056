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
        VectorMemory.PendingVector? vector = null;
        InvalidOperationException? unindexable = null;
        if (m.Direction == "in" && m.Embedding is { Length: > 0 } embedding && options.Value.RecallMessages && !string.IsNullOrWhiteSpace(m.Text))
        {
            // An embedding the index cannot hold (the encoder changed) still lets the message be recorded; the caller
            // hears about it afterwards.
            try { vector = vectors.Prepare(m.UserKey, VectorMemory.MessageKind, m.Id, m.Text, m.TimestampMs, embedding); }
            catch (InvalidOperationException ex) { unindexable = ex; }
        }
        string kind = m.Direction == "in" ? EventKinds.MessageIn : EventKinds.MessageOut;
        // The event carries the message id and the normalized embedding: the event log is the source of truth that
        // LogReplay restores LiteDB and vector recall from after a crash.
        var evt = EventLog.ToRecord(new LoggedEvent(m.ConversationKey, m.UserKey, kind, m.TimestampMs, m.Text,
            m.Intent is null ? null : System.Text.Json.JsonSerializer.Serialize(new { intent = m.Intent, language = m.Language })), m.Id) with
        {
            Vector = vector?.Normalized,
        };
        long order = shortTerm.NextOrder();
        // The LiteDB write is queued before the event (the replay mark relies on that order), then both are awaited.
        var stored = await writer.EnqueueAsync((WriteBatch batch) => Apply(batch, message, vector), checkpoint: false, cancellationToken).ConfigureAwait(false);
        var logged = eventLog.AppendAsync(evt, cancellationToken).AsTask();
        // Acknowledged only once both stores have it (and, for a user message, vector recall).
        await Task.WhenAll(stored.WaitAsync(cancellationToken), logged).ConfigureAwait(false);
        if (vector is not null) vectors.Commit(vector);
        shortTerm.OnCommitted(m.ConversationKey, m.Id, new Turn(m.Direction == "in" ? "user" : "assistant", m.Text, m.TimestampMs), order);
        if (unindexable is not null) throw unindexable;
    }

    /// <summary>
    /// The message, its conversation's counters and its recall vector, in one transaction. A message id already stored
    /// (a redelivery, or the replay of a message LiteDB kept) changes nothing, so nothing is counted or indexed twice.
    /// </summary>
    internal static bool Apply(WriteBatch batch, MessageDoc message, VectorMemory.PendingVector? vector)
    {
        var messages = batch.Messages;
        if (messages.FindById(message.Id) is not null) return false;
        messages.Insert(message);
        // The batch's shared copy: a turn's inbound message, reply and dialog state upsert it once per group commit.
        var conv = batch.Conversation(message.Conv, () => new ConversationDoc { Id = message.Conv, User = message.User, StartedMs = message.Ts });
        conv.MessageCount++;
        conv.LastActivityMs = Math.Max(conv.LastActivityMs, message.Ts);
        if (vector is not null) VectorMemory.Stage(batch.DbWithoutConversations, vector);
        return true;
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
