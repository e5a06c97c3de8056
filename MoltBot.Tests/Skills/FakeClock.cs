namespace MoltBot.Tests.Skills;

/// <summary>A clock that moves only when told; its timers (Task.Delay, CancelAfter, WaitAsync) fire on Advance.</summary>
public sealed class FakeClock(DateTimeOffset start) : TimeProvider
{
    private readonly object _lock = new();
    private readonly List<FakeTimer> _timers = [];
    private DateTimeOffset _now = start;

    public override DateTimeOffset GetUtcNow()
    {
        lock (_lock) return _now;
    }

    public void Advance(TimeSpan by)
    {
        List<FakeTimer> due;
        lock (_lock)
        {
            _now += by;
            due = _timers.Where(t => t.DueAt is { } d && d <= _now).ToList();
        }
        foreach (var t in due) t.Fire();
    }

    /// <summary>Counts timer (re)arms; pass a value read earlier to <see cref="WaitForTimerDueAtAsync"/> as "since".</summary>
    public long TimerChanges
    {
        get { lock (_lock) return _changes; }
    }

    /// <summary>
    /// Waits until some timer armed after <paramref name="since"/> (see <see cref="TimerChanges"/>) is due exactly at
    /// <paramref name="dueAt"/>: code that computes a sleep from "now" and then creates its timer must have done both
    /// before a test advances the clock, or the timer counts from the new time.
    /// </summary>
    public async Task WaitForTimerDueAtAsync(DateTimeOffset dueAt, TimeSpan timeout, long since = 0)
    {
        using var cts = new CancellationTokenSource(timeout);
        while (true)
        {
            Task changed;
            lock (_lock)
            {
                if (_timers.Any(t => t.DueAt == dueAt && t.ArmedAt > since)) return;
                changed = _timerChanged.Task;
            }
            try
            {
                await changed.WaitAsync(cts.Token);
            }
            catch (OperationCanceledException)
            {
                throw new TimeoutException($"no timer became due at {dueAt:O} within {timeout}");
            }
        }
    }

    private TaskCompletionSource _timerChanged = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private long _changes;

    private void SignalTimerChanged()
    {
        TaskCompletionSource old;
        lock (_lock)
        {
            old = _timerChanged;
            _timerChanged = new(TaskCreationOptions.RunContinuationsAsynchronously);
        }
        old.TrySetResult();
    }

    public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
    {
        var timer = new FakeTimer(this, callback, state);
        lock (_lock) _timers.Add(timer);
        timer.Change(dueTime, period);
        return timer;
    }

    private void Remove(FakeTimer timer)
    {
        lock (_lock) _timers.Remove(timer);
    }

    private sealed class FakeTimer(FakeClock clock, TimerCallback callback, object? state) : ITimer
    {
        public DateTimeOffset? DueAt { get; private set; }
        public long ArmedAt { get; private set; }
        private TimeSpan _period = Timeout.InfiniteTimeSpan;

        public bool Change(TimeSpan dueTime, TimeSpan period)
        {
            lock (clock._lock)
            {
                DueAt = dueTime == Timeout.InfiniteTimeSpan ? null : clock._now + dueTime;
                _period = period;
                ArmedAt = ++clock._changes;
            }
            clock.SignalTimerChanged();
            if (dueTime == TimeSpan.Zero) Fire();
            return true;
        }

        public void Fire()
        {
            lock (clock._lock)
            {
                if (DueAt is null) return;
                DueAt = _period == Timeout.InfiniteTimeSpan || _period == TimeSpan.Zero ? null : clock._now + _period;
            }
            callback(state);
        }

        public void Dispose()
        {
            lock (clock._lock) DueAt = null;
            clock.Remove(this);
        }

        public ValueTask DisposeAsync()
        {
            Dispose();
            return ValueTask.CompletedTask;
        }
    }
}
