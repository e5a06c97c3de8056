using System.Text;
using LiteDB;

namespace MoltBot.Memory.Storage;

/// <summary>
/// The LiteDB writer's turns not written yet, per conversation (Memory:ConversationFlushMilliseconds with write-behind):
/// a conversation's turns are written as one "messages" document, a bucket, instead of one document each — the one
/// index insert per turn was the largest part of the skill path's CPU (docs/performance.md, session skill9). A bucket
/// is a turn document (<see cref="MessageDoc"/>, under its first user message's key) whose further turns are in
/// <see cref="MessageDoc.More"/>; it holds at most <see cref="MaxTurns"/> turns and ≈ <see cref="MaxTextBytes"/> of text,
/// then the conversation's next turn starts a new one. Held turns are written under the same rules as the held
/// conversation documents (<see cref="GroupCommitWriter"/>): a read barrier, a raw write (the replay mark, a deletion),
/// the interval, an idle interval, stop. The event log has every turn before it is acknowledged; after a kill the
/// start-up replay restores the held turns LiteDB never got.
/// A message inside a bucket is not under its own primary key, so duplicates (a redelivered message) are found through
/// <see cref="Known"/>: per conversation the 64-bit hashes of every stored or held message id, read once from the
/// conversation's documents when the writer first meets it (bounded by conversations, LRU); a hash that matches is
/// confirmed against the documents themselves.
/// </summary>
public sealed class TurnBuckets(int conversations)
{
    /// <summary>Turns per bucket at most.</summary>
    public const int MaxTurns = 64;

    /// <summary>Text (UTF-8 bytes of the user messages and replies) per bucket at most, unless one turn alone is larger.</summary>
    public const int MaxTextBytes = 64 * 1024;

    private sealed class Held
    {
        public readonly List<MessageDoc> Buckets = [];
        public int OpenBytes;
    }

    private readonly Dictionary<string, Held> _held = new(StringComparer.Ordinal);
    private readonly LruCache<string, HashSet<ulong>> _known = new(Math.Max(1, conversations));

    public bool IsEmpty => _held.Count == 0;

    /// <summary>Turns held (for tests).</summary>
    public int HeldTurns => _held.Values.Sum(h => h.Buckets.Sum(b => 1 + (b.More?.Count ?? 0)));

    /// <summary>Buckets held (for tests).</summary>
    public int HeldBuckets => _held.Values.Sum(h => h.Buckets.Count);

    /// <summary>Adds a committed turn to its conversation's open bucket, or starts a new one when that is full.</summary>
    internal void Add(MessageDoc inbound, MessageDoc reply) => Add(_held, inbound, reply);

    /// <summary>
    /// The held buckets with <paramref name="turns"/> added (to write them all now), without changing the held ones:
    /// each conversation's open bucket is copied before turns are added to it.
    /// </summary>
    internal IEnumerable<MessageDoc> With(IEnumerable<(MessageDoc Inbound, MessageDoc Reply)> turns)
    {
        var all = new Dictionary<string, Held>(StringComparer.Ordinal);
        foreach (var (conv, held) in _held)
        {
            var copy = new Held { OpenBytes = held.OpenBytes };
            copy.Buckets.AddRange(held.Buckets);
            copy.Buckets[^1] = held.Buckets[^1].CopyWithOwnMore();
            all[conv] = copy;
        }
        return Grouped(all, turns);
    }

    /// <summary><paramref name="turns"/> grouped into new buckets, one run per conversation (nothing held is involved).</summary>
    internal static IEnumerable<MessageDoc> Group(IEnumerable<(MessageDoc Inbound, MessageDoc Reply)> turns) =>
        Grouped(new Dictionary<string, Held>(StringComparer.Ordinal), turns);

    private static IEnumerable<MessageDoc> Grouped(Dictionary<string, Held> buckets, IEnumerable<(MessageDoc Inbound, MessageDoc Reply)> turns)
    {
        foreach (var (inbound, reply) in turns) Add(buckets, inbound, reply);
        return buckets.Values.SelectMany(h => h.Buckets);
    }

    private static void Add(Dictionary<string, Held> buckets, MessageDoc inbound, MessageDoc reply)
    {
        if (!buckets.TryGetValue(inbound.Conv, out var held)) buckets[inbound.Conv] = held = new Held();
        int bytes = TextBytes(inbound, reply);
        var open = held.Buckets.Count > 0 ? held.Buckets[^1] : null;
        if (open is not null && 1 + (open.More?.Count ?? 0) < MaxTurns && held.OpenBytes + bytes <= MaxTextBytes)
        {
            (open.More ??= []).Add(Part(inbound, reply));
            held.OpenBytes += bytes;
            return;
        }
        held.Buckets.Add(Start(inbound, reply));
        held.OpenBytes = bytes;
    }

    /// <summary>The held buckets, in order (each conversation's in turn order).</summary>
    internal IEnumerable<MessageDoc> Buckets() => _held.Values.SelectMany(h => h.Buckets);

    internal IEnumerable<MessageDoc> HeldIn(string conversationKey) =>
        _held.TryGetValue(conversationKey, out var held) ? held.Buckets : [];

    internal void ClearHeld() => _held.Clear();

    /// <summary>Drops one held bucket (LiteDB refused it: see GroupCommitWriter).</summary>
    internal void Drop(MessageDoc bucket)
    {
        if (!_held.TryGetValue(bucket.Conv, out var held)) return;
        held.Buckets.Remove(bucket);
        if (held.Buckets.Count == 0) _held.Remove(bucket.Conv);
    }

    /// <summary>
    /// The hashes of every message id of the conversation stored in LiteDB or held here; read from the conversation's
    /// documents (one range of the primary key) the first time. Call it before the transaction inserts anything of
    /// this conversation, so it holds committed and held ids only.
    /// </summary>
    internal HashSet<ulong> Known(LiteDatabase db, string conversationKey)
    {
        if (_known.TryGet(conversationKey, out var known)) return known;
        known = [];
        foreach (var m in ConversationStoreReader.Read(db, conversationKey)) known.Add(Hash(m.Id));
        foreach (var b in HeldIn(conversationKey))
        {
            foreach (var m in b.Parts()) known.Add(Hash(m.Id));
        }
        _known.Set(conversationKey, known);
        return known;
    }

    /// <summary>Records ids as stored (after a commit).</summary>
    internal void NoteKnown(string conversationKey, ulong hash)
    {
        if (_known.TryGet(conversationKey, out var known)) known.Add(hash);
    }

    /// <summary>FNV-1a, 64 bits, over the id's UTF-16 code units.</summary>
    internal static ulong Hash(string id)
    {
        ulong h = 14695981039346656037UL;
        foreach (char c in id)
        {
            h ^= c;
            h *= 1099511628211UL;
        }
        return h;
    }

    internal static int TextBytes(MessageDoc inbound, MessageDoc reply) =>
        Encoding.UTF8.GetByteCount(inbound.Text) + Encoding.UTF8.GetByteCount(reply.Text);

    /// <summary>A new bucket holding one turn: the turn document of it.</summary>
    internal static MessageDoc Start(MessageDoc inbound, MessageDoc reply) => Document(inbound.Key, inbound.Conv, Part(inbound, reply), null);

    internal static TurnPart Part(MessageDoc inbound, MessageDoc reply) => new()
    {
        MessageId = inbound.Id, User = inbound.User, Text = inbound.Text, Ts = inbound.Ts, Intent = inbound.Intent, Language = inbound.Language,
        ReplyId = reply.Id, ReplyText = reply.Text, ReplyTs = reply.Ts, ReplyIntent = reply.Intent, ReplyLanguage = reply.Language,
    };

    /// <summary>
    /// The turns of a bucket (or turn document) as parts; null for a document of one message.
    /// </summary>
    internal static List<TurnPart>? Turns(MessageDoc doc)
    {
        if (doc.ReplyId is null) return null;
        var turns = new List<TurnPart>(1 + (doc.More?.Count ?? 0))
        {
            new()
            {
                MessageId = doc.Id, User = doc.User, Text = doc.Text, Ts = doc.Ts, Intent = doc.Intent, Language = doc.Language,
                ReplyId = doc.ReplyId, ReplyText = doc.ReplyText ?? "", ReplyTs = doc.ReplyTs ?? doc.Ts, ReplyIntent = doc.ReplyIntent,
                ReplyLanguage = doc.ReplyLanguage,
            },
        };
        if (doc.More is not null) turns.AddRange(doc.More);
        return turns;
    }

    /// <summary>A bucket of the given turns (at least one), under the first one's key.</summary>
    internal static MessageDoc Build(string conversationKey, IReadOnlyList<TurnPart> turns) =>
        Document(MessageKey.For(conversationKey, turns[0].MessageId), conversationKey, turns[0], turns.Count > 1 ? turns.Skip(1).ToList() : null);

    // The one place a turn document's fields are filled from its first turn (the inverse of the first part of Turns).
    private static MessageDoc Document(byte[] key, string conversationKey, TurnPart first, List<TurnPart>? more) => new()
    {
        Key = key, Id = first.MessageId, Conv = conversationKey, User = first.User, Direction = "in",
        Text = first.Text, Ts = first.Ts, Intent = first.Intent, Language = first.Language,
        ReplyId = first.ReplyId, ReplyText = first.ReplyText, ReplyTs = first.ReplyTs, ReplyIntent = first.ReplyIntent,
        ReplyLanguage = first.ReplyLanguage, More = more,
    };
}

/// <summary>Reads a conversation's messages from "messages" (shared by the store, the writer's duplicate check, the replay).</summary>
internal static class ConversationStoreReader
{
    /// <summary>The conversation's documents in key order: one range of the primary key (<see cref="MessageKey"/>).</summary>
    internal static IEnumerable<MessageDoc> Documents(LiteDatabase db, string conversationKey) =>
        db.GetCollection<MessageDoc>(Collections.Messages).Find(MessageKey.InConversation(conversationKey))
            .Where(d => string.Equals(d.Conv, conversationKey, StringComparison.Ordinal));

    /// <summary>The conversation's messages, each document's parts in order.</summary>
    internal static IEnumerable<MessageDoc> Read(LiteDatabase db, string conversationKey) =>
        Documents(db, conversationKey).SelectMany(d => d.Parts());
}
