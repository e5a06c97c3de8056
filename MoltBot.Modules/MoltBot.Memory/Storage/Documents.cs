using LiteDB;

namespace MoltBot.Memory.Storage;

// The LiteDB schema: one document class per collection. Field names are short because every event pays for them.

/// <summary>
/// "messages". The primary key is <see cref="MessageKey"/> (conversation + message id), so "messages" needs no other
/// index; the message id itself is <see cref="Id"/>, stored as "Mid". Files from before keep the id as "_id" and have a
/// Conv index until <see cref="MemoryDatabase"/> converts them at open.
/// A turn (a user message and its reply, same conversation and user: <see cref="MoltBot.Contracts.Memory.ITurnRecorder"/>) is one document:
/// the user message's fields and key, plus the reply in the <c>Reply…</c> fields (absent — null, not written — on a
/// document that holds one message, as every document did before). One index insert per turn instead of two;
/// <see cref="Parts"/> gives the messages a document holds.
/// </summary>
public sealed class MessageDoc
{
    [BsonId] public byte[] Key { get; set; } = [];
    [BsonField("Mid")] public string Id { get; set; } = "";
    public string Conv { get; set; } = "";
    public string User { get; set; } = "";
    public string Direction { get; set; } = "";
    public string Text { get; set; } = "";
    public long Ts { get; set; }
    public string? Intent { get; set; }
    public string? Language { get; set; }
    /// <summary>The reply's message id, when this document is a turn ("RMid").</summary>
    [BsonField("RMid")] public string? ReplyId { get; set; }
    [BsonField("RText")] public string? ReplyText { get; set; }
    [BsonField("RTs")] public long? ReplyTs { get; set; }
    [BsonField("RIntent")] public string? ReplyIntent { get; set; }
    [BsonField("RLanguage")] public string? ReplyLanguage { get; set; }
    /// <summary>
    /// A bucket's further turns, in order (null, not written, on a document of one message or one turn): the writer
    /// keeps the turns of a conversation it has not written yet and writes them as one document under the first
    /// turn's key (<see cref="TurnBucket"/>). Each part may be another user's (group conversations).
    /// </summary>
    public List<TurnPart>? More { get; set; }

    /// <summary>
    /// The messages this document holds, in order: itself, and for a turn its reply (same key, conversation and user,
    /// direction "out"). The parts carry no reply fields.
    /// </summary>
    public IEnumerable<MessageDoc> Parts()
    {
        if (ReplyId is null && More is null)
        {
            yield return this;
            yield break;
        }
        yield return new MessageDoc
        {
            Key = Key, Id = Id, Conv = Conv, User = User, Direction = Direction, Text = Text, Ts = Ts, Intent = Intent, Language = Language,
        };
        if (ReplyId is not null)
        {
            yield return new MessageDoc
            {
                Key = Key, Id = ReplyId, Conv = Conv, User = User, Direction = "out", Text = ReplyText ?? "", Ts = ReplyTs ?? Ts,
                Intent = ReplyIntent, Language = ReplyLanguage,
            };
        }
        if (More is null) yield break;
        foreach (var t in More)
        {
            yield return new MessageDoc
            {
                Key = Key, Id = t.MessageId, Conv = Conv, User = t.User, Direction = "in", Text = t.Text, Ts = t.Ts, Intent = t.Intent, Language = t.Language,
            };
            yield return new MessageDoc
            {
                Key = Key, Id = t.ReplyId, Conv = Conv, User = t.User, Direction = "out", Text = t.ReplyText, Ts = t.ReplyTs,
                Intent = t.ReplyIntent, Language = t.ReplyLanguage,
            };
        }
    }

    /// <summary>A copy whose <see cref="More"/> list is its own (turns added to it leave this document as it is). A method: a property would be mapped.</summary>
    internal MessageDoc CopyWithOwnMore()
    {
        var copy = (MessageDoc)MemberwiseClone();
        copy.More = More is null ? null : [.. More];
        return copy;
    }

    /// <summary>How many messages this document holds (1, 2 for a turn, 2 per turn for a bucket). A method: a property would be mapped.</summary>
    public int CountMessages() => (ReplyId is null ? 1 : 2) + 2 * (More?.Count ?? 0);

    /// <summary>The newest time of the messages this document holds.</summary>
    public long LastTs()
    {
        long last = Math.Max(Ts, ReplyTs ?? Ts);
        if (More is not null) foreach (var t in More) last = Math.Max(last, Math.Max(t.Ts, t.ReplyTs));
        return last;
    }
}

/// <summary>
/// One turn inside a bucket (<see cref="MessageDoc.More"/>): a user message and its reply (same conversation and
/// user), field names as on <see cref="MessageDoc"/>.
/// </summary>
public sealed class TurnPart
{
    /// <summary>The user message's id ("Mid"; a member named Id would be LiteDB's "_id").</summary>
    [BsonField("Mid")] public string MessageId { get; set; } = "";
    public string User { get; set; } = "";
    public string Text { get; set; } = "";
    public long Ts { get; set; }
    public string? Intent { get; set; }
    public string? Language { get; set; }
    [BsonField("RMid")] public string ReplyId { get; set; } = "";
    [BsonField("RText")] public string ReplyText { get; set; } = "";
    [BsonField("RTs")] public long ReplyTs { get; set; }
    [BsonField("RIntent")] public string? ReplyIntent { get; set; }
    [BsonField("RLanguage")] public string? ReplyLanguage { get; set; }
}

/// <summary>"conversations": counters and the persisted dialog state.</summary>
public sealed class ConversationDoc
{
    [BsonId] public string Id { get; set; } = "";
    public string User { get; set; } = "";
    public int MessageCount { get; set; }
    public long StartedMs { get; set; }
    public long LastActivityMs { get; set; }
    public string? DialogState { get; set; }
    /// <summary>
    /// Every user with a message here (the starting user included; more in group chats), multikey-indexed: how a
    /// user's export and deletion find their messages now that "messages" has no User index.
    /// </summary>
    public List<string>? Users { get; set; }
}

/// <summary>"facts": what a user asked MoltBot to remember.</summary>
public sealed class FactDoc
{
    [BsonId] public string Id { get; set; } = "";
    public string User { get; set; } = "";
    public string Text { get; set; } = "";
    public long Ts { get; set; }
    public long VectorId { get; set; }
}

/// <summary>"vectors": the source of truth the HNSW index is rebuilt/replayed from.</summary>
public sealed class VectorDoc
{
    [BsonId] public long Id { get; set; }
    public string User { get; set; } = "";
    public string Kind { get; set; } = "";
    public string RefId { get; set; } = "";
    public string Text { get; set; } = "";
    public long Ts { get; set; }
    public byte[] Vector { get; set; } = [];

    public static byte[] Pack(ReadOnlySpan<float> v) => System.Runtime.InteropServices.MemoryMarshal.AsBytes(v).ToArray();

    public static float[] Unpack(byte[] bytes) => System.Runtime.InteropServices.MemoryMarshal.Cast<byte, float>(bytes).ToArray();
}

/// <summary>"profiles".</summary>
public sealed class ProfileDoc
{
    [BsonId] public string Id { get; set; } = "";
    public string? DisplayName { get; set; }
    public string? Language { get; set; }
    public string? TimeZone { get; set; }
    public string? City { get; set; }
    public Dictionary<string, string> Preferences { get; set; } = new();
    public long UpdatedMs { get; set; }
}

/// <summary>"meta": bookkeeping documents (the event-log replay mark), no user data.</summary>
public sealed class MetaDoc
{
    [BsonId] public string Id { get; set; } = "";
    public int Segment { get; set; }
    public int Offset { get; set; }
}

public static class Collections
{
    /// <summary>Bookkeeping (see <see cref="MetaDoc"/>); holds nothing about users, so it is not in <see cref="All"/>.</summary>
    public const string Meta = "meta";
    /// <summary>Where versions before the segment-file event log kept events; moved into the log at start.</summary>
    public const string Events = "events";
    public const string Messages = "messages";
    public const string Conversations = "conversations";
    public const string Facts = "facts";
    public const string Vectors = "vectors";
    public const string Profiles = "profiles";

    public static readonly IReadOnlyList<string> All = [Messages, Conversations, Facts, Vectors, Profiles];
}
