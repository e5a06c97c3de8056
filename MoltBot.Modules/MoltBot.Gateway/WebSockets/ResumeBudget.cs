using System.Collections.Concurrent;

namespace MoltBot.Gateway.WebSockets;

/// <summary>
/// Gateway:ResumeBufferTotalBytes: one bound for the frames every session keeps for resume (not for the replies a
/// resent message id is answered with: those stay with their idempotency entry). Each session is also bounded on its own (ResumeBufferEvents,
/// ResumeWindowSeconds), but those bounds multiply by the number of sessions; this one does not. Frames are noted in
/// the order they were published; when the total is over the bound, the oldest frames of any session are dropped
/// first. A session that needs a dropped frame to resume gets resume_failed, as when its own bound dropped it.
/// </summary>
internal sealed class ResumeBudget(long limitBytes, long windowMs)
{
    // Published frames, oldest first. An entry whose frame its session already dropped is skipped when it reaches
    // the head; entries older than the resume window are dropped there too, so the queue holds at most one window.
    private readonly ConcurrentQueue<(GatewaySession Session, long Seq, long AtMs)> _order = new();
    private readonly Lock _trimming = new();
    private long _bytes;
    private long _evictedFrames;

    public long LimitBytes => limitBytes;

    /// <summary>Bytes of the frames all sessions hold for resume now.</summary>
    public long HeldBytes => Interlocked.Read(ref _bytes);

    /// <summary>Frames dropped because the total was over the bound (not by a session's own bounds).</summary>
    public long EvictedFrames => Interlocked.Read(ref _evictedFrames);

    /// <summary>Called by a session, under its lock, for each frame it starts to keep.</summary>
    internal void Added(GatewaySession session, long seq, int bytes, long atMs)
    {
        Interlocked.Add(ref _bytes, bytes);
        _order.Enqueue((session, seq, atMs));
    }

    /// <summary>Called by a session, under its lock, for each frame it stops keeping (for whatever reason).</summary>
    internal void Released(int bytes) => Interlocked.Add(ref _bytes, -bytes);

    /// <summary>
    /// Drops the oldest frames until the total is within the bound. Called after a publish, outside every session's
    /// lock (it takes one session lock at a time), so when a publish returns the bound holds for its frames.
    /// </summary>
    internal void Enforce(long nowMs)
    {
        if (!_order.TryPeek(out var first) || (Interlocked.Read(ref _bytes) <= limitBytes && first.AtMs >= nowMs - windowMs && first.Session.Holds(first.Seq))) return;
        lock (_trimming)
        {
            while (_order.TryPeek(out var head))
            {
                bool over = Interlocked.Read(ref _bytes) > limitBytes;
                bool old = head.AtMs < nowMs - windowMs;
                if (!over && !old && head.Session.Holds(head.Seq)) break;
                _order.TryDequeue(out _);
                // Past the window the frame is not resumable anyway (the session would drop it at its next publish).
                if ((over || old) && head.Session.DropThrough(head.Seq) && !old) Interlocked.Increment(ref _evictedFrames);
            }
        }
    }
}
