using System.Text.Json;
using LiteDB;
using MoltBot.Contracts.Memory;

namespace MoltBot.Memory.Storage;

/// <summary>
/// At start, before any write: puts back into LiteDB the messages the event log has but LiteDB lost — LiteDB's log is
/// fsynced only every Memory:DatabaseSyncMilliseconds (<see cref="DatabaseSyncer"/>), so a power loss can take the
/// last interval's commits, while the event log fsynced every message before its reply went out. Checks the message
/// events from <see cref="Margin"/> before the synced mark on (all of them when there is no mark). Restores the
/// message documents and their conversations' counters; not restored: dialog state, profile changes and message
/// vectors of that interval (the event log does not hold them).
/// </summary>
public static class MessageRestorer
{
    /// <summary>
    /// A message's timestamp is taken before its LiteDB write is issued; this covers the gap (the pipeline's handler
    /// timeout is 60 s by default), so a message written after the mark but stamped before it is still checked.
    /// </summary>
    public static readonly TimeSpan Margin = TimeSpan.FromMinutes(2);

    /// <returns>How many messages were restored.</returns>
    public static int Restore(MemoryDatabase database, EventLog eventLog)
    {
        long? mark = database.ReadSyncedMark();
        long from = mark is { } m ? m - (long)Margin.TotalMilliseconds : long.MinValue;
        var candidates = eventLog.MessagesSince(from);
        if (candidates.Count == 0) return 0;

        var db = database.Db;
        var messages = db.GetCollection<MessageDoc>(Collections.Messages);
        var conversations = db.GetCollection<ConversationDoc>(Collections.Conversations);
        int restored = 0;
        db.BeginTrans();
        try
        {
            foreach (var e in candidates)
            {
                if (e.Ref is null || messages.FindById(e.Ref) is not null) continue;
                var (intent, language) = Annotations(e.Data);
                messages.Insert(new MessageDoc
                {
                    Id = e.Ref, Conv = e.Conv, User = e.User, Direction = e.Kind == EventKinds.MessageIn ? "in" : "out", Text = e.Text ?? "",
                    Ts = e.Ts, Intent = intent, Language = language,
                });
                var conv = conversations.FindById(e.Conv) ?? new ConversationDoc { Id = e.Conv, User = e.User, StartedMs = e.Ts };
                conv.MessageCount++;
                conv.LastActivityMs = Math.Max(conv.LastActivityMs, e.Ts);
                conversations.Upsert(conv);
                restored++;
            }
            db.Commit();
        }
        catch
        {
            db.Rollback();
            throw;
        }
        if (restored > 0) db.Checkpoint(); // durable before anything else is written
        return restored;
    }

    // Inbound message events carry {"intent":…,"language":…} (ConversationStore).
    private static (string? Intent, string? Language) Annotations(string? data)
    {
        if (string.IsNullOrEmpty(data)) return (null, null);
        try
        {
            using var doc = JsonDocument.Parse(data);
            var root = doc.RootElement;
            return (Get(root, "intent"), Get(root, "language"));
        }
        catch (JsonException)
        {
            return (null, null);
        }

        static string? Get(JsonElement root, string name) =>
            root.ValueKind == JsonValueKind.Object && root.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;
    }
}
