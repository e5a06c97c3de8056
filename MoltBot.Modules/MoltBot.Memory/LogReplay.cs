using System.Text.Json;
using Microsoft.Extensions.Logging;
using MoltBot.Contracts.Memory;
using MoltBot.Memory.Storage;

namespace MoltBot.Memory;

/// <summary>
/// Start-up replay: the event log is the source of truth for messages. LiteDB's commits are not flushed before a
/// message is acknowledged (the log's are), so after a crash LiteDB can lack the newest acknowledged messages. Every
/// message event from the replay mark on (see <see cref="ReplayMark"/>) whose message LiteDB does not hold is written
/// again — message, conversation counters and recall vector, exactly as <see cref="ConversationStore"/> writes them —
/// and indexed; then the mark moves to the log's end. Runs after the vector index is loaded and before any write.
/// Short-term buffers need nothing: they are rebuilt from the log on first use.
/// </summary>
public sealed class LogReplay(MemoryDatabase database, EventLog eventLog, VectorMemory vectors, ReplayMark mark, ILogger<LogReplay> logger)
{
    private const int TransactionSize = 2_000;

    /// <summary>Messages (and of them, recall vectors) the last run restored.</summary>
    public (int Messages, int Vectors) Restored { get; private set; }

    public (int Messages, int Vectors) Run()
    {
        var events = eventLog.TakeReplay();
        var db = database.Db;
        int messages = 0, restoredVectors = 0;
        // Per conversation, the ids LiteDB holds (messages of their own, turns, buckets: a message inside a turn or
        // bucket is not under its own key), read once when the replay first meets the conversation.
        var stored = new Dictionary<string, HashSet<string>>(StringComparer.Ordinal);
        for (int start = 0; start < events.Count; start += TransactionSize)
        {
            var indexed = new List<VectorMemory.PendingVector>();
            db.BeginTrans();
            try
            {
                var batch = new WriteBatch(db) { CheckDuplicates = true };
                foreach (var e in events.Skip(start).Take(TransactionSize))
                {
                    var message = ToMessage(e);
                    var ids = StoredIds(db, message.Conv, stored);
                    if (!ids.Add(message.Id)) continue;
                    // A vector of another encoder's size is left out, as a live write would have been; one LiteDB has is
                    // not stored again: a held turn's vector is committed with its group, its messages later (TurnBuckets).
                    var vector = e.Kind == EventKinds.MessageIn && e.Vector is { Length: > 0 } v && (vectors.Index is null || vectors.Index.Dimension == v.Length)
                        && !VectorStored(db, e.User, message.Id)
                        ? vectors.Prepare(e.User, VectorMemory.MessageKind, message.Id, message.Text, message.Ts, v)
                        : null;
                    if (!ConversationStore.Apply(batch, message, vector)) continue;
                    messages++;
                    if (vector is null) continue;
                    restoredVectors++;
                    indexed.Add(vector);
                }
                batch.Flush();
                db.Commit();
            }
            catch
            {
                db.Rollback();
                throw;
            }
            foreach (var v in indexed) vectors.Commit(v);
        }
        // Vouches for everything read at open; written after the replayed documents (a crash in between replays again).
        db.BeginTrans();
        Recount(db, events.Select(e => e.Conv).Distinct(StringComparer.Ordinal));
        mark.Write(db, eventLog.End);
        db.Commit();
        Restored = (messages, restoredVectors);
        if (messages > 0)
        {
            logger.LogWarning("Restored {Messages} acknowledged messages ({Vectors} recall vectors) from the event log that LiteDB lacked after an unclean stop",
                messages, restoredVectors);
        }
        else
        {
            logger.LogInformation("Event-log replay: LiteDB already held all {Count} messages after the replay mark", events.Count);
        }
        return Restored;
    }

    /// <summary>
    /// The counters of every conversation with messages in the replayed window, from its stored messages: the writer
    /// may have committed a message and left its conversation's document unwritten (Memory:ConversationFlushMilliseconds)
    /// when the process stopped, so a message LiteDB kept may be missing from its counter. The message count becomes
    /// the number of stored messages, the last activity at least the newest one's time, and every sender a participant.
    /// </summary>
    internal static int Recount(LiteDB.LiteDatabase db, IEnumerable<string> conversationKeys)
    {
        var conversations = db.GetCollection<ConversationDoc>(Collections.Conversations);
        int changed = 0;
        foreach (string key in conversationKeys)
        {
            int count = 0;
            long last = long.MinValue, first = long.MaxValue;
            var users = new List<string>();
            string? starter = null;
            foreach (var d in ConversationStore.Documents(db, key))
            {
                count += d.CountMessages();
                last = Math.Max(last, d.LastTs());
                if (d.Ts < first) (first, starter) = (d.Ts, d.User);
                if (!users.Contains(d.User)) users.Add(d.User);
                if (d.More is not null) foreach (var t in d.More) if (!users.Contains(t.User)) users.Add(t.User);
            }
            if (count == 0) continue;
            var doc = conversations.FindById(key) ?? new ConversationDoc { Id = key, User = starter!, StartedMs = first };
            bool stale = doc.MessageCount != count || doc.LastActivityMs < last || doc.Users is null || users.Any(u => !doc.Users.Contains(u));
            if (!stale) continue;
            doc.MessageCount = count;
            doc.LastActivityMs = Math.Max(doc.LastActivityMs, last);
            doc.Users ??= [];
            foreach (string u in users) if (!doc.Users.Contains(u)) doc.Users.Add(u);
            conversations.Upsert(doc);
            changed++;
        }
        return changed;
    }

    /// <summary>Whether LiteDB holds the recall vector of the user's message (through the RefId index).</summary>
    internal static bool VectorStored(LiteDB.LiteDatabase db, string userKey, string messageId) =>
        db.GetCollection<VectorDoc>(Collections.Vectors).Find(LiteDB.BsonExpression.Create("$.RefId = @0", messageId))
            .Any(d => d.User == userKey && d.Kind == VectorMemory.MessageKind);

    /// <summary>
    /// The ids of the conversation's stored messages (one pass over its key range, the first time the replay meets it),
    /// to which the replay adds what it restores.
    /// </summary>
    internal static HashSet<string> StoredIds(LiteDB.LiteDatabase db, string conversationKey, Dictionary<string, HashSet<string>> stored)
    {
        if (stored.TryGetValue(conversationKey, out var ids)) return ids;
        ids = new HashSet<string>(ConversationStore.Read(db, conversationKey).Select(m => m.Id), StringComparer.Ordinal);
        stored[conversationKey] = ids;
        return ids;
    }

    private static MessageDoc ToMessage(EventRecord e)
    {
        string? intent = null, language = null;
        if (e.Data is { } data)
        {
            try
            {
                using var json = JsonDocument.Parse(data);
                if (json.RootElement.ValueKind == JsonValueKind.Object)
                {
                    if (json.RootElement.TryGetProperty("intent", out var i) && i.ValueKind == JsonValueKind.String) intent = i.GetString();
                    if (json.RootElement.TryGetProperty("language", out var l) && l.ValueKind == JsonValueKind.String) language = l.GetString();
                }
            }
            catch (JsonException)
            {
                // The details are optional; the message itself is what must not be lost.
            }
        }
        return new MessageDoc
        {
            Key = MessageKey.For(e.Conv, e.Ref!), Id = e.Ref!, Conv = e.Conv, User = e.User, Direction = e.Kind == EventKinds.MessageIn ? "in" : "out", Text = e.Text ?? "", Ts = e.Ts,
            Intent = intent, Language = language,
        };
    }
}
