using System.Text.Json;
using BsonExpression = LiteDB.BsonExpression;
using LiteDatabase = LiteDB.LiteDatabase;
using Microsoft.Extensions.Logging;
using MoltBot.Contracts.Admin;
using MoltBot.Memory.Storage;

namespace MoltBot.Memory;

/// <summary>Export of everything held about a user (JSON) and deletion from every tier: LiteDB, event log, vector index, caches.</summary>
public sealed class UserDataRights(
    MemoryDatabase database, GroupCommitWriter writer, EventLog eventLog, VectorMemory vectors, UserProfileStore profiles, DialogStateStore dialogStates,
    ShortTermMemory shortTerm, TimeProvider clock, ILogger<UserDataRights> logger) : IUserDataRights
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web) { WriteIndented = true };

    public async Task<string> ExportJsonAsync(string userKey, CancellationToken cancellationToken)
    {
        await writer.WhenWrittenAsync(cancellationToken).ConfigureAwait(false); // everything already written, incl. write-behind
        var profile = database.Collection<ProfileDoc>(Collections.Profiles).FindById(userKey);
        var export = new
        {
            userKey,
            exportedAtMs = clock.GetUtcNow().ToUnixTimeMilliseconds(),
            profile = profile is null ? null : UserProfileStore.FromDoc(profile),
            conversations = database.Collection<ConversationDoc>(Collections.Conversations).Find(x => x.User == userKey)
                .Select(c => new { key = c.Id, c.MessageCount, c.StartedMs, c.LastActivityMs, dialogState = c.DialogState }).ToList(),
            messages = MessagesOf(database.Db, userKey).OrderBy(m => m.Ts)
                .Select(m => new { m.Id, conversation = m.Conv, m.Direction, m.Text, timestampMs = m.Ts, m.Intent, m.Language }).ToList(),
            facts = database.Collection<FactDoc>(Collections.Facts).Find(x => x.User == userKey)
                .Select(f => new { f.Id, f.Text, timestampMs = f.Ts }).ToList(),
            vectors = database.Collection<VectorDoc>(Collections.Vectors).Find(x => x.User == userKey)
                .Select(v => new { v.Id, v.Kind, v.RefId, v.Text, timestampMs = v.Ts, embedding = VectorDoc.Unpack(v.Vector) }).ToList(),
            events = eventLog.ForUser(userKey)
                .Select(e => new { conversation = e.Conv, e.Kind, timestampMs = e.Ts, e.Text, data = e.Data }).ToList(),
        };
        return JsonSerializer.Serialize(export, Json);
    }

    private static BsonExpression UserIn(string userKey) => BsonExpression.Create("$.Users[*] ANY = @0", userKey);

    /// <summary>The conversations the user has messages in (through the multikey <see cref="ConversationDoc.Users"/> index).</summary>
    private static List<string> ConversationsOf(LiteDatabase db, string userKey) =>
        db.GetCollection<ConversationDoc>(Collections.Conversations).Find(UserIn(userKey)).Select(c => c.Id).ToList();

    /// <summary>The user's messages: their conversations' messages (a key range each) from them.</summary>
    private static IEnumerable<MessageDoc> MessagesOf(LiteDatabase db, string userKey) =>
        ConversationsOf(db, userKey).SelectMany(conv => MessagesIn(db, conv, userKey));

    /// <summary>The user's messages in one conversation (its key range).</summary>
    private static IEnumerable<MessageDoc> MessagesIn(LiteDatabase db, string conversationKey, string userKey) =>
        ConversationStore.Read(db, conversationKey).Where(m => m.User == userKey);

    /// <summary>
    /// Deletes the user's messages among a conversation's documents and returns how many messages went. A turn
    /// document holds the user's message and its reply (same user): both go. A bucket (several turns, in a group
    /// conversation of several users) that holds other users' turns too is written again without the user's, under its
    /// first remaining turn's key.
    /// </summary>
    internal static int DeleteMessagesOf(LiteDB.ILiteCollection<MessageDoc> messages, IEnumerable<MessageDoc> documents, string userKey)
    {
        int removed = 0;
        foreach (var doc in documents)
        {
            if (doc.More is null)
            {
                // One message, or one turn: all the user's or none of it.
                if (doc.User == userKey && messages.Delete(doc.Key)) removed += doc.CountMessages();
                continue;
            }
            var turns = TurnBuckets.Turns(doc)!; // a bucket (More set) always has its first turn's reply
            var kept = turns.Where(t => t.User != userKey).ToList();
            if (kept.Count == turns.Count || !messages.Delete(doc.Key)) continue;
            removed += 2 * (turns.Count - kept.Count);
            if (kept.Count > 0) messages.Insert(TurnBuckets.Build(doc.Conv, kept));
        }
        return removed;
    }

    public async Task<int> DeleteAsync(string userKey, CancellationToken cancellationToken)
    {
        int removed = 0;
        var conversations = new HashSet<string>();
        await writer.WriteAsync(db =>
        {
            var spokenIn = ConversationsOf(db, userKey);
            conversations.UnionWith(spokenIn);
            conversations.UnionWith(db.GetCollection<ConversationDoc>(Collections.Conversations).Find(x => x.User == userKey).Select(c => c.Id));
            var messageTable = db.GetCollection<MessageDoc>(Collections.Messages);
            foreach (string conv in spokenIn)
            {
                removed += DeleteMessagesOf(messageTable, ConversationStore.Documents(db, conv).ToList(), userKey);
            }
            removed += db.GetCollection<ConversationDoc>(Collections.Conversations).DeleteMany(x => x.User == userKey);
            // Other users' group conversations stay, without this user in their participant list.
            var others = db.GetCollection<ConversationDoc>(Collections.Conversations);
            foreach (var doc in others.Find(UserIn(userKey)).ToList())
            {
                doc.Users!.RemoveAll(u => u == userKey);
                others.Update(doc);
            }
            removed += db.GetCollection<FactDoc>(Collections.Facts).DeleteMany(x => x.User == userKey);
            removed += db.GetCollection<VectorDoc>(Collections.Vectors).DeleteMany(x => x.User == userKey);
            if (db.GetCollection<ProfileDoc>(Collections.Profiles).Delete(userKey)) removed++;
        }, cancellationToken).ConfigureAwait(false);
        // The event log's segments holding the user's events are rewritten without them.
        removed += await eventLog.DeleteUserAsync(userKey, cancellationToken).ConfigureAwait(false);

        vectors.RemoveUser(userKey);
        profiles.Cache.Remove(userKey);
        dialogStates.Cache.RemoveWhere((key, state) => state.UserKey == userKey || conversations.Contains(key));
        foreach (var c in conversations) shortTerm.Forget(c);
        // Merge the write-ahead log into the data file so the deleted documents are not left in the log.
        database.Db.Checkpoint();
        logger.LogInformation("Deleted user data: {Count} items across all tiers", removed);
        return removed;
    }
}
