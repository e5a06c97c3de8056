using LiteDB;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using MoltBot.Contracts.Admin;
using MoltBot.Contracts.Memory;
using MoltBot.Memory.Storage;

namespace MoltBot.Memory;

/// <summary>
/// Long-term conversation storage: a message (a turn: user message and reply in one document; the turns the LiteDB writer holds: one
/// bucket document per conversation, see TurnBuckets) goes into "messages" and its conversation's counters (one LiteDB
/// group commit) and into the event log (an event-log group commit), both issued at once; then into the short-term
/// buffer and (user messages, once LiteDB has its vector) vector recall. With Memory:DatabaseWriteBehind (default)
/// the call is acknowledged once the event log fsynced the message — LiteDB commits behind it, and the start-up
/// replay (LogReplay) restores from the event log whatever LiteDB lost — otherwise once both have it.
/// </summary>
public sealed class ConversationStore(
    MemoryDatabase database, GroupCommitWriter writer, EventLog eventLog, ShortTermMemory shortTerm, VectorMemory vectors, IOptions<MemoryOptions> options,
    ILogger<ConversationStore> logger)
    : IConversationStore, IConversationReader, ITurnRecorder
{
    public ValueTask RecordMessageAsync(ConversationMessage m, CancellationToken cancellationToken) =>
        RecordAsync([Prepare(m)], [], cancellationToken);

    /// <summary>The turn's three parts with one event-log group commit: user message, dialog events, reply.</summary>
    public ValueTask RecordTurnAsync(ConversationMessage inbound, IReadOnlyList<LoggedEvent> events, ConversationMessage reply, CancellationToken cancellationToken) =>
        RecordAsync([Prepare(inbound), Prepare(reply)], events.Select(e => EventLog.ToRecord(e, null)).ToList(), cancellationToken);

    private sealed record PreparedMessage(ConversationMessage Message, MessageDoc Doc, VectorMemory.PendingVector? Vector, InvalidOperationException? Unindexable,
        EventRecord Event, long Order);

    private PreparedMessage Prepare(ConversationMessage m)
    {
        var message = new MessageDoc
        {
            Key = MessageKey.For(m.ConversationKey, m.Id), Id = m.Id, Conv = m.ConversationKey, User = m.UserKey, Direction = m.Direction, Text = m.Text, Ts = m.TimestampMs,
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
            m.Intent is null ? null : IntentJson(m.Intent, m.Language)), m.Id) with
        {
            Vector = vector?.Normalized,
        };
        return new PreparedMessage(m, message, vector, unindexable, evt, shortTerm.NextOrder());
    }

    /// <summary>
    /// {"intent":…,"language":…} — what the reflection serializer wrote for the anonymous type this replaced, without
    /// building its metadata and accessors on the first turn.
    /// </summary>
    internal static string IntentJson(string intent, string? language)
    {
        var buffer = new System.Buffers.ArrayBufferWriter<byte>(64);
        using (var w = new System.Text.Json.Utf8JsonWriter(buffer))
        {
            w.WriteStartObject();
            w.WriteString("intent", intent);
            w.WriteString("language", language);
            w.WriteEndObject();
        }
        return System.Text.Encoding.UTF8.GetString(buffer.WrittenSpan);
    }

    /// <summary>
    /// Queues the messages' LiteDB writes (one writer request), then appends the first message's event, <paramref name="afterFirst"/> and
    /// the other messages' events in one event-log request (one frame, one fsync).
    /// </summary>
    private async ValueTask RecordAsync(PreparedMessage[] messages, IReadOnlyList<EventRecord> afterFirst, CancellationToken cancellationToken)
    {
        bool behind = options.Value.DatabaseWriteBehind;
        // The messages' LiteDB writes go to the writer as one request (a turn's user message and reply: one queue
        // entry, one completion): they commit together, in order. Vector recall searches the index, then reads
        // LiteDB: a vector is indexed once LiteDB has it, on the writer (so WhenWrittenAsync covers it too) when
        // nobody waits for the commit. Every LiteDB write is queued before its event (the replay mark relies on that order).
        Action? index = behind && messages.Any(p => p.Vector is not null) ? () =>
        {
            foreach (var p in messages)
            {
                if (p.Vector is { } v) vectors.Commit(v);
            }
        } : null;
        bool turn = messages.Length == 2 && IsTurn(messages[0].Doc, messages[1].Doc);
        var stored = await writer.EnqueueAsync((WriteBatch batch) =>
        {
            if (turn) ApplyTurn(batch, messages[0].Doc, messages[0].Vector, messages[1].Doc);
            else foreach (var p in messages) Apply(batch, p.Doc, p.Vector);
        }, checkpoint: false, cancellationToken, index).ConfigureAwait(false);
        var records = new List<EventRecord>(messages.Length + afterFirst.Count) { messages[0].Event };
        records.AddRange(afterFirst);
        records.AddRange(messages.Skip(1).Select(p => p.Event));
        var logged = records.Count == 1 ? eventLog.AppendAsync(records[0], cancellationToken).AsTask() : eventLog.AppendAllAsync(records, cancellationToken).AsTask();
        if (behind)
        {
            WriteBehind.LogIfFailed(stored, logger,
                "Writing messages {MessageIds} to LiteDB failed; the event log has them and the next start restores them",
                () => string.Join(", ", messages.Select(p => p.Message.Id)));
            await logged.ConfigureAwait(false);
        }
        else
        {
            // Acknowledged only once both stores have them (and, for a user message, vector recall).
            await Task.WhenAll(stored.WaitAsync(cancellationToken), logged).ConfigureAwait(false);
            foreach (var p in messages)
            {
                if (p.Vector is not null) vectors.Commit(p.Vector);
            }
        }
        foreach (var p in messages)
        {
            var m = p.Message;
            shortTerm.OnCommitted(m.ConversationKey, m.Id, new Turn(m.Direction == "in" ? "user" : "assistant", m.Text, m.TimestampMs), p.Order);
        }
        if (messages.Select(p => p.Unindexable).FirstOrDefault(x => x is not null) is { } unindexable) throw unindexable;
    }

    /// <summary>
    /// The message, its conversation's counters and its recall vector, in one transaction. A message id already stored
    /// (a redelivery, or the replay of a message LiteDB kept) changes nothing, so nothing is counted or indexed twice:
    /// in a group commit the primary key's duplicate-key error rolls the group back and the writer retries each write
    /// alone with <see cref="WriteBatch.CheckDuplicates"/>, where the id is looked up first. (The look-up on every
    /// message was ≈ 10 % of the skill path's CPU; duplicates are rare.)
    /// </summary>
    internal static bool Apply(WriteBatch batch, MessageDoc message, VectorMemory.PendingVector? vector)
    {
        var messages = batch.Messages;
        if (batch.HoldsTurns)
        {
            // A message inside a held or stored bucket is not under its own key: the writer's ids answer (and, in the
            // one-by-one retry after a failed group, the key as well).
            if (batch.IsStored(message.Conv, message.Id) || (batch.CheckDuplicates && messages.FindById(message.Key) is not null)) return false;
            batch.Stored(message.Conv, message.Id);
        }
        else if (batch.CheckDuplicates && messages.FindById(message.Key) is not null) return false;
        messages.Insert(message);
        Count(batch, message, 1, message.Ts);
        if (vector is not null) VectorMemory.Stage(batch.DbWithoutConversations, vector);
        return true;
    }

    /// <summary>
    /// A user message and its reply stored as one document (<see cref="MessageDoc"/>: the reply in its Reply fields):
    /// what <see cref="ITurnRecorder.RecordTurnAsync"/> writes when both belong to the same conversation and user.
    /// </summary>
    internal static bool IsTurn(MessageDoc inbound, MessageDoc reply) =>
        inbound.Direction == "in" && reply.Direction == "out" && inbound.ReplyId is null && reply.ReplyId is null
        && string.Equals(inbound.Conv, reply.Conv, StringComparison.Ordinal) && string.Equals(inbound.User, reply.User, StringComparison.Ordinal)
        && !string.Equals(inbound.Id, reply.Id, StringComparison.Ordinal);

    /// <summary>
    /// A turn in one document under the user message's key: one insert and one index node for two messages (the
    /// message insert was the largest part of the skill path's CPU). Counted as two messages, as before. With
    /// <see cref="WriteBatch.CheckDuplicates"/> (a group that met a stored id, the start-up replay) a turn whose user
    /// message or reply is already stored — as a turn or alone, e.g. the user message recorded alone when the
    /// decision failed — stores only what is missing, each alone: a message is still stored and counted once.
    /// With a writer that holds turns (<see cref="WriteBatch.HoldsTurns"/>) the turn is held instead and written as part
    /// of its conversation's bucket (<see cref="TurnBuckets"/>); stored ids are then found through
    /// <see cref="WriteBatch.IsStored"/>, since a message inside a bucket is not under its own key.
    /// </summary>
    internal static int ApplyTurn(WriteBatch batch, MessageDoc inbound, VectorMemory.PendingVector? vector, MessageDoc reply)
    {
        var messages = batch.Messages;
        if (batch.HoldsTurns)
        {
            // Held for the conversation's bucket (TurnBuckets); what is stored already is stored only once.
            bool inboundStored = batch.IsStored(inbound.Conv, inbound.Id), replyStored = batch.IsStored(reply.Conv, reply.Id);
            if (inboundStored || replyStored)
            {
                int added = 0;
                if (!inboundStored && Apply(batch, inbound, vector)) added++;
                if (!replyStored && Apply(batch, reply, null)) added++;
                return added;
            }
            batch.Hold(inbound, reply);
            Count(batch, inbound, 2, Math.Max(inbound.Ts, reply.Ts));
            if (vector is not null) VectorMemory.Stage(batch.DbWithoutConversations, vector);
            return 2;
        }
        if (batch.CheckDuplicates)
        {
            var stored = messages.FindById(inbound.Key);
            bool replyStored = (stored is not null && string.Equals(stored.ReplyId, reply.Id, StringComparison.Ordinal))
                || messages.FindById(reply.Key) is not null;
            if (stored is not null || replyStored)
            {
                int added = 0;
                if (stored is null && Apply(batch, inbound, vector)) added++;
                if (!replyStored && Apply(batch, reply, null)) added++;
                return added;
            }
        }
        messages.Insert(TurnBuckets.Start(inbound, reply)); // a turn document = a bucket of one turn (IsTurn: inbound is "in")
        Count(batch, inbound, 2, Math.Max(inbound.Ts, reply.Ts));
        if (vector is not null) VectorMemory.Stage(batch.DbWithoutConversations, vector);
        return 2;
    }

    // The batch's shared copy: a turn's messages and dialog state upsert it once per group commit.
    private static void Count(WriteBatch batch, MessageDoc message, int count, long lastTs)
    {
        var conv = batch.Conversation(message.Conv, () => new ConversationDoc { Id = message.Conv, User = message.User, StartedMs = message.Ts });
        conv.MessageCount += count;
        if (conv.Users is not { } users) conv.Users = [message.User];
        else if (!users.Contains(message.User)) users.Add(message.User);
        conv.LastActivityMs = Math.Max(conv.LastActivityMs, lastTs);
    }

    public async Task<IReadOnlyList<ConversationSummary>> ListAsync(int skip, int take, CancellationToken cancellationToken)
    {
        await writer.WhenWrittenAsync(cancellationToken).ConfigureAwait(false); // read your own (write-behind) writes
        IReadOnlyList<ConversationSummary> list = database.Collection<ConversationDoc>(Collections.Conversations).Query()
            .OrderByDescending(x => x.LastActivityMs).Skip(Math.Max(0, skip)).Limit(Math.Clamp(take, 0, 10_000)).ToList()
            .Select(c => new ConversationSummary(c.Id, c.User, c.MessageCount, c.LastActivityMs)).ToList();
        return list;
    }

    public async Task<IReadOnlyList<StoredMessage>> MessagesAsync(string conversationKey, int take, CancellationToken cancellationToken)
    {
        await writer.WhenWrittenAsync(cancellationToken).ConfigureAwait(false); // read your own (write-behind) writes
        return Read(database.Db, conversationKey).OrderBy(d => d.Ts).TakeLast(Math.Clamp(take, 0, 10_000))
            .Select(d => new StoredMessage(d.Id, d.Conv, d.User, d.Direction, d.Text, d.Ts)).ToList();
    }

    /// <summary>
    /// The conversation's messages in key order (a turn document's user message, then its reply): see <see cref="Documents"/>.
    /// </summary>
    internal static IEnumerable<MessageDoc> Read(LiteDatabase db, string conversationKey) => ConversationStoreReader.Read(db, conversationKey);

    /// <summary>
    /// The conversation's documents in key order: one range of the primary key (<see cref="MessageKey"/>). The Conv
    /// check is exact (ordinal), and keeps out another conversation whose long key hashes alike.
    /// </summary>
    internal static IEnumerable<MessageDoc> Documents(LiteDatabase db, string conversationKey) => ConversationStoreReader.Documents(db, conversationKey);
}
