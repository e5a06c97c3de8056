namespace MoltBot.Pipeline;

/// <summary>
/// One shard worker's typing timer (Pipeline:TypingDelayMilliseconds): the worker handles one message at a time, so a
/// single timer, re-armed per turn, serves all its turns without a timer allocation per message. When it fires, the
/// turn's pending typing event goes out (<see cref="ReplyWriter.SendPendingTyping"/>); a turn whose reply was written
/// first has dropped its pending typing, so a late tick finds nothing to send.
/// </summary>
internal sealed class TypingDelay : IDisposable
{
    private readonly TimeSpan _delay;
    private readonly ITimer _timer;
    private ReplyWriter? _current;

    public TypingDelay(TimeSpan delay, TimeProvider clock)
    {
        _delay = delay;
        _timer = clock.CreateTimer(static state => ((TypingDelay)state!).Fire(), this, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
    }

    /// <summary>Starts the wait for <paramref name="writer"/>'s typing event.</summary>
    public void Arm(ReplyWriter writer)
    {
        Volatile.Write(ref _current, writer);
        _timer.Change(_delay, Timeout.InfiniteTimeSpan);
    }

    /// <summary>The turn of <paramref name="writer"/> is over: a later tick must not reach it.</summary>
    public void Disarm(ReplyWriter writer)
    {
        if (Interlocked.CompareExchange(ref _current, null, writer) == writer) _timer.Change(Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
    }

    private void Fire() => Volatile.Read(ref _current)?.SendPendingTyping();

    public void Dispose() => _timer.Dispose();
}
