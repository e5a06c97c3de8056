namespace MoltBot.Tests.Memory;

/// <summary>
/// Real wall clock, but timers fire only when the test says so: the writer's linger and flush-interval waits end
/// exactly when a test calls <see cref="FireAll"/>, never by elapsed time.
/// </summary>
internal sealed class ManualTimers : TimeProvider
{
    private readonly List<ManualTimer> _timers = [];
    private readonly SemaphoreSlim _created = new(0, int.MaxValue);

    public int TimersCreated { get { lock (_timers) return _timers.Count; } }

    public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
    {
        var timer = new ManualTimer(callback, state);
        lock (_timers) _timers.Add(timer);
        _created.Release();
        return timer;
    }

    public Task WhenTimerCreatedAsync() => _created.WaitAsync();

    public void FireAll()
    {
        ManualTimer[] timers;
        lock (_timers) timers = [.. _timers];
        foreach (var t in timers) t.Fire();
    }

    private sealed class ManualTimer(TimerCallback callback, object? state) : ITimer
    {
        private bool _stopped;
        public void Fire() { if (!_stopped) callback(state); }
        public bool Change(TimeSpan dueTime, TimeSpan period) => !_stopped;
        public void Dispose() => _stopped = true;
        public ValueTask DisposeAsync() { Dispose(); return ValueTask.CompletedTask; }
    }
}
