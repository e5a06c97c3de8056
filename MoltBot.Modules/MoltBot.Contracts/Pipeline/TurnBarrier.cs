namespace MoltBot.Contracts.Pipeline;

/// <summary>
/// Work that a turn's final reply must wait for but nothing else in the turn needs — today the audit record of
/// every model call made for the turn, which must be on disk before the user sees an answer built on that call.
/// The pipeline opens one barrier per message (it flows with the handler's async calls) and waits for it just
/// before the final or error reply goes out, so that work overlaps the dialog decision, the skill and the turn's
/// event-log commit instead of running before them. Outside a turn, or once its reply is out,
/// <see cref="TryDefer"/> returns false and the caller must wait for the work itself.
/// </summary>
public sealed class TurnBarrier
{
    private static readonly AsyncLocal<TurnBarrier?> CurrentTurn = new();

    private readonly object _gate = new();
    private List<Task>? _work;
    private bool _closed;

    /// <summary>The barrier of the turn the calling code runs in, if any.</summary>
    public static TurnBarrier? Current => CurrentTurn.Value;

    /// <summary>Opens a barrier for the calling async flow (and everything it calls from now on).</summary>
    public static TurnBarrier Open()
    {
        var barrier = new TurnBarrier();
        CurrentTurn.Value = barrier;
        return barrier;
    }

    /// <summary>
    /// Hands <paramref name="work"/> to the current turn's reply. False when there is no open turn: then the caller
    /// waits for it. The work must not fault (log failures inside it): the reply waits for it, nothing observes it.
    /// </summary>
    public static bool TryDefer(Task work) => CurrentTurn.Value?.TryAdd(work) ?? false;

    /// <summary>Number of deferred tasks not yet awaited by the reply (tests and diagnostics).</summary>
    public int Pending
    {
        get { lock (_gate) return _work?.Count(t => !t.IsCompleted) ?? 0; }
    }

    private bool TryAdd(Task work)
    {
        lock (_gate)
        {
            if (_closed) return false;
            (_work ??= []).Add(work);
            return true;
        }
    }

    /// <summary>Closes the barrier (later work is not deferred) and completes when everything deferred has.</summary>
    public Task CloseAsync()
    {
        List<Task>? work;
        lock (_gate)
        {
            _closed = true;
            work = _work;
            _work = null;
        }
        return work is null ? Task.CompletedTask : Task.WhenAll(work);
    }
}
