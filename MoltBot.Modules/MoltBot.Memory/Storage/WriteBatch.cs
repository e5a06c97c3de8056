using LiteDB;

namespace MoltBot.Memory.Storage;

/// <summary>
/// What a group-commit write sees: the database, plus the batch's conversation documents. A turn touches its
/// conversation's document up to three times (inbound message, reply, dialog state); writes in one batch share one
/// read and one upsert per conversation instead of a FindById and an Upsert each. With the writer's
/// <paramref name="committed"/> cache (documents as last committed by it), a conversation's next batch skips the read too,
/// and with its <paramref name="deferred"/> documents (committed by the writer, not written to LiteDB yet:
/// Memory:ConversationFlushMilliseconds) the batch may leave its documents unwritten as well (<see cref="Flush"/>).
/// The batch works on copies: the writer's documents change only once the batch committed (<see cref="Committed"/>).
/// </summary>
/// With the writer's <paramref name="buckets"/> a turn is held (<see cref="Hold"/>) and written as part of its
/// conversation's bucket document when the held documents are written (<see cref="TurnBuckets"/>).
public sealed class WriteBatch(LiteDatabase db, LruCache<string, ConversationDoc>? committed = null, Dictionary<string, ConversationDoc>? deferred = null,
    TurnBuckets? buckets = null)
{
    /// <summary>Whether turns are held and written as buckets (a deferring writer).</summary>
    public bool HoldsTurns => buckets is not null;

    // This batch's turns to hold once it commits (or, when it writes the held documents, written as buckets of their
    // own), and the ids it stored or holds, per conversation (for duplicates within the batch).
    private readonly List<(MessageDoc Inbound, MessageDoc Reply)> _turns = [];
    private readonly List<(string Conv, ulong Hash)> _stored = [];
    private readonly HashSet<ulong> _storedHashes = []; // the hashes of _stored, any conversation (a match is confirmed)
    private bool _wroteHeld;

    /// <summary>
    /// False in a group commit: a write that may repeat a stored document (a redelivered or replayed message) inserts
    /// it without looking it up — the primary key refuses a duplicate, which fails the group, and the writer replays
    /// its writes one per transaction with this set, where the write looks the id up first and skips what is stored.
    /// True in that retry and in the start-up replay (which mostly meets messages LiteDB already has).
    /// </summary>
    public bool CheckDuplicates { get; init; }

    private readonly Dictionary<string, ConversationDoc> _conversations = new(StringComparer.Ordinal);
    // Documents this batch wrote (upserted) and documents it leaves deferred; applied to the writer's state on commit.
    private readonly Dictionary<string, ConversationDoc> _written = new(StringComparer.Ordinal);
    private readonly Dictionary<string, ConversationDoc> _stillDeferred = new(StringComparer.Ordinal);
    private bool _wroteDeferred;
    private bool _raw;

    /// <summary>The database for writes that do not go through the batch's conversation documents.</summary>
    public LiteDatabase Db
    {
        get
        {
            // A raw write may read or delete conversations: it must see, and must not be overwritten by, cached or
            // deferred ones; and what it changes is not in the writer's cache, so the cache starts over once committed.
            Flush(all: true);
            _raw = true;
            return db;
        }
    }

    /// <summary>The conversation's document (created by <paramref name="create"/> if it does not exist), written at the end of the batch.</summary>
    public ConversationDoc Conversation(string id, Func<ConversationDoc> create)
    {
        if (_conversations.TryGetValue(id, out var doc)) return doc;
        // After a raw write only LiteDB is current (the raw write may have changed or deleted the document).
        if (!_raw && (_stillDeferred.Remove(id, out doc) || _written.TryGetValue(id, out doc))) { }
        else if (!_raw && ((deferred is not null && deferred.TryGetValue(id, out var kept)) || (committed is not null && committed.TryGet(id, out kept))))
        {
            doc = Copy(kept); // the writer's copy changes only if this batch commits
        }
        else
        {
            doc = db.GetCollection<ConversationDoc>(Collections.Conversations).FindById(id) ?? create();
        }
        _conversations[id] = doc;
        return doc;
    }

    private static ConversationDoc Copy(ConversationDoc d) => new()
    {
        Id = d.Id, User = d.User, MessageCount = d.MessageCount, StartedMs = d.StartedMs, LastActivityMs = d.LastActivityMs,
        DialogState = d.DialogState, Users = d.Users is null ? null : [.. d.Users],
    };

    /// <summary>
    /// The database for writes that never read or write conversations (messages, vectors): unlike <see cref="Db"/> it
    /// does not write the shared conversation documents out first.
    /// </summary>
    public LiteDatabase DbWithoutConversations => db;

    /// <summary>
    /// Whether a message id is stored in the conversation (in LiteDB, as a message of its own, in a turn or in a
    /// bucket), held by the writer or stored by this batch. Only with <see cref="HoldsTurns"/>: a hash set per
    /// conversation answers, and a match is confirmed against the documents.
    /// </summary>
    public bool IsStored(string conversationKey, string id)
    {
        ulong hash = TurnBuckets.Hash(id);
        bool maybe = buckets!.Known(db, conversationKey).Contains(hash) || _storedHashes.Contains(hash);
        if (!maybe) return false;
        foreach (var (inbound, reply) in _turns)
        {
            if (string.Equals(inbound.Conv, conversationKey, StringComparison.Ordinal)
                && (string.Equals(inbound.Id, id, StringComparison.Ordinal) || string.Equals(reply.Id, id, StringComparison.Ordinal))) return true;
        }
        foreach (var b in buckets.HeldIn(conversationKey))
        {
            if (b.Parts().Any(m => string.Equals(m.Id, id, StringComparison.Ordinal))) return true;
        }
        return ConversationStoreReader.Read(db, conversationKey).Any(m => string.Equals(m.Id, id, StringComparison.Ordinal));
    }

    /// <summary>Notes a message this batch inserted on its own (see <see cref="IsStored"/>).</summary>
    public void Stored(string conversationKey, string id)
    {
        if (buckets is null) return;
        ulong hash = TurnBuckets.Hash(id);
        _stored.Add((conversationKey, hash));
        _storedHashes.Add(hash);
    }

    /// <summary>A turn to write as part of its conversation's bucket (see <see cref="TurnBuckets"/>).</summary>
    public void Hold(MessageDoc inbound, MessageDoc reply)
    {
        _turns.Add((inbound, reply));
        Stored(inbound.Conv, inbound.Id);
        Stored(inbound.Conv, reply.Id);
    }

    /// <summary>The messages collection (inserts do not touch conversation documents).</summary>
    public ILiteCollection<MessageDoc> Messages => db.GetCollection<MessageDoc>(Collections.Messages);

    /// <summary>
    /// Upserts the conversation documents changed so far, and with <paramref name="all"/> the writer's deferred ones
    /// too; without it (a deferring writer) they are left for a later batch.
    /// </summary>
    public void Flush(bool all = true)
    {
        if (all && buckets is not null && (!buckets.IsEmpty || _turns.Count > 0)) WriteHeldTurns();
        if (!all && deferred is not null)
        {
            foreach (var (id, doc) in _conversations) _stillDeferred[id] = doc;
            _conversations.Clear();
            return;
        }
        var collection = db.GetCollection<ConversationDoc>(Collections.Conversations);
        foreach (var (id, doc) in _conversations)
        {
            collection.Upsert(doc);
            _written[id] = doc;
        }
        _conversations.Clear();
        foreach (var (id, doc) in _stillDeferred)
        {
            collection.Upsert(doc);
            _written[id] = doc;
        }
        _stillDeferred.Clear();
        if (deferred is { Count: > 0 } && !_wroteDeferred)
        {
            foreach (var (id, doc) in deferred)
            {
                if (_written.ContainsKey(id)) continue;
                collection.Upsert(doc);
            }
            _wroteDeferred = true;
        }
    }

    // The writer's held buckets, this batch's turns added (to copies: the writer's change only once this commits).
    private void WriteHeldTurns()
    {
        var messages = Messages;
        if (_wroteHeld)
        {
            // A second time in this batch (a raw write after turns already written): only the turns since.
            messages.Insert(TurnBuckets.Group(_turns));
        }
        else
        {
            messages.Insert(buckets!.With(_turns));
            _wroteHeld = true;
        }
        _turns.Clear();
    }

    /// <summary>
    /// After the batch's transaction committed: the writer's cache takes the batch's documents (or starts over after a
    /// raw write), and its deferred documents are the ones still unwritten.
    /// </summary>
    public void Committed()
    {
        if (_wroteDeferred) deferred?.Clear();
        if (buckets is not null)
        {
            if (_wroteHeld) buckets.ClearHeld();
            foreach (var (inbound, reply) in _turns) buckets.Add(inbound, reply);
            // A raw write (a deletion) may have removed stored messages: ids known that are no longer stored only cost
            // the confirmation against the documents when they come again (IsStored), so the known ids stay.
            foreach (var (conv, hash) in _stored) buckets.NoteKnown(conv, hash);
        }
        if (_raw)
        {
            committed?.Clear();
            deferred?.Clear(); // a raw write flushed every deferred document first
            return;
        }
        foreach (var (id, doc) in _written)
        {
            deferred?.Remove(id);
            committed?.Set(id, doc);
        }
        foreach (var (id, doc) in _stillDeferred)
        {
            deferred![id] = doc;
            committed?.Set(id, doc);
        }
    }
}
