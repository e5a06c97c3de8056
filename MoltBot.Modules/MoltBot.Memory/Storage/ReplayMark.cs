using LiteDB;

namespace MoltBot.Memory.Storage;

/// <summary>A place in the event log: segment id and byte offset. Every event before it is "behind" it.</summary>
public readonly record struct EventPosition(int Segment, int Offset) : IComparable<EventPosition>
{
    public static readonly EventPosition Start = new(0, 0);

    public int CompareTo(EventPosition other)
    {
        int c = Segment.CompareTo(other.Segment);
        return c != 0 ? c : Offset.CompareTo(other.Offset);
    }

    public bool IsAfter(EventPointer p) => CompareTo(new EventPosition(p.Segment, p.Offset)) > 0;
}

/// <summary>
/// The event-log replay mark, kept in LiteDB's "meta" collection: LiteDB holds the effects of every event-log message
/// before it. LiteDB's commits are not flushed before a message is acknowledged (the event log's are), so after a
/// crash LiteDB may miss the newest acknowledged messages; at start <see cref="LogReplay"/> re-applies every message
/// event from the mark on. The mark is written in a LiteDB transaction queued after the writes it vouches for, and
/// LiteDB writes its log in commit order, so a mark that survived a crash never claims a write that did not.
/// A rewrite of the log (retention, user deletion) moves offsets inside a segment, so before one the mark is moved
/// back to the start of its segment and checkpointed (durable) first.
/// </summary>
public sealed class ReplayMark(MemoryDatabase database, GroupCommitWriter writer)
{
    private const string DocumentId = "eventlog.replay";

    private long _current; // packed: segment << 32 | offset, so readers on other threads never see half a mark

    /// <summary>The mark as last written (or loaded at start).</summary>
    public EventPosition Current
    {
        get
        {
            long v = Volatile.Read(ref _current);
            return new EventPosition((int)(v >> 32), (int)(uint)v);
        }
        private set => Volatile.Write(ref _current, ((long)value.Segment << 32) | (uint)value.Offset);
    }

    /// <summary>Reads the stored mark (the log's start when none was ever stored: everything is replayed once).</summary>
    public EventPosition Load()
    {
        var doc = database.Collection<MetaDoc>(Collections.Meta).FindById(DocumentId);
        Current = doc is null ? EventPosition.Start : new EventPosition(doc.Segment, doc.Offset);
        return Current;
    }

    /// <summary>Stores the mark inside the caller's transaction (the replay, and the final write at a clean stop).</summary>
    public void Write(LiteDatabase db, EventPosition position)
    {
        db.GetCollection<MetaDoc>(Collections.Meta).Upsert(new MetaDoc { Id = DocumentId, Segment = position.Segment, Offset = position.Offset });
        Current = position;
    }

    /// <summary>
    /// Moves the mark to <paramref name="position"/> once every LiteDB write queued so far has committed (the caller
    /// read the position after the events' own writes were queued). Skipped if <paramref name="stillValid"/> says a
    /// log rewrite happened meanwhile, or if a LiteDB write failed since start (its message must stay replayable).
    /// </summary>
    public async Task AdvanceAsync(EventPosition position, Func<bool> stillValid, CancellationToken cancellationToken)
    {
        var committed = await writer.EnqueueAsync(db =>
        {
            if (writer.Failures == 0 && stillValid() && position.CompareTo(Current) > 0) Write(db, position);
        }, checkpoint: false, cancellationToken).ConfigureAwait(false);
        await committed.ConfigureAwait(false);
    }

    /// <summary>Moves the mark back to the start of its segment, durably (checkpointed), before the log is rewritten.</summary>
    public async Task RewindForRewriteAsync(CancellationToken cancellationToken)
    {
        if (Current.Offset == 0) return;
        var committed = await writer.EnqueueAsync(db => Write(db, Current with { Offset = 0 }), checkpoint: true, cancellationToken).ConfigureAwait(false);
        await committed.ConfigureAwait(false);
    }
}
