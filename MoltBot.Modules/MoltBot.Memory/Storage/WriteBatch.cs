using LiteDB;

namespace MoltBot.Memory.Storage;

/// <summary>
/// What a group-commit write sees: the database, plus the batch's conversation documents. A turn touches its
/// conversation's document up to three times (inbound message, reply, dialog state); writes in one batch share one
/// read and one upsert per conversation instead of a FindById and an Upsert each. With the writer's
/// <paramref name="committed"/> cache (documents as last committed by it), a conversation's next batch skips the read too.
/// </summary>
public sealed class WriteBatch(LiteDatabase db, LruCache<string, ConversationDoc>? committed = null)
{
    /// <summary>
    /// False in a group commit: a write that may repeat a stored document (a redelivered or replayed message) inserts
    /// it without looking it up — the primary key refuses a duplicate, which fails the group, and the writer replays
    /// its writes one per transaction with this set, where the write looks the id up first and skips what is stored.
    /// True in that retry and in the start-up replay (which mostly meets messages LiteDB already has).
    /// </summary>
    public bool CheckDuplicates { get; init; }

    private readonly Dictionary<string, ConversationDoc> _conversations = new(StringComparer.Ordinal);

    /// <summary>The database for writes that do not go through the batch's conversation documents.</summary>
    public LiteDatabase Db
    {
        get
        {
            // A raw write may read or delete conversations: it must see, and must not be overwritten by, cached ones;
            // and what it changes is not in the writer's cache, so the cache starts over.
            Flush();
            committed?.Clear();
            return db;
        }
    }

    /// <summary>The conversation's document (created by <paramref name="create"/> if it does not exist), written at the end of the batch.</summary>
    public ConversationDoc Conversation(string id, Func<ConversationDoc> create)
    {
        if (_conversations.TryGetValue(id, out var doc)) return doc;
        if (committed is null || !committed.TryGet(id, out doc))
        {
            doc = db.GetCollection<ConversationDoc>(Collections.Conversations).FindById(id) ?? create();
        }
        _conversations[id] = doc;
        return doc;
    }

    /// <summary>
    /// The database for writes that never read or write conversations (messages, vectors): unlike <see cref="Db"/> it
    /// does not write the shared conversation documents out first.
    /// </summary>
    public LiteDatabase DbWithoutConversations => db;

    /// <summary>The messages collection (inserts do not touch conversation documents).</summary>
    public ILiteCollection<MessageDoc> Messages => db.GetCollection<MessageDoc>(Collections.Messages);

    /// <summary>Upserts the conversation documents changed so far.</summary>
    public void Flush()
    {
        if (_conversations.Count == 0) return;
        var collection = db.GetCollection<ConversationDoc>(Collections.Conversations);
        foreach (var doc in _conversations.Values)
        {
            collection.Upsert(doc);
            // The writer drops the whole cache if this transaction does not commit (the documents were changed in place).
            committed?.Set(doc.Id, doc);
        }
        _conversations.Clear();
    }
}
