namespace MoltBot.DevTools.Sandbox;

/// <summary>A reply as the simulated user saw it, or why there was none (the platform refused the message).</summary>
internal sealed record SimulatedReply(string Text, string? Error);

/// <summary>
/// One simulated user's conversation on one platform: at most one message waits for its reply at a time, so every
/// reply is matched to the message it answers; a reply nobody waits for is late (its message timed out) or a duplicate.
/// </summary>
internal sealed class SimulatedConversation(string platform, string id, PlatformStats stats)
{
    private readonly Lock _gate = new();
    private TaskCompletionSource<SimulatedReply>? _pending;
    private int _timedOut;

    public string Platform { get; } = platform;
    public string Id { get; } = id;
    public PlatformStats Stats { get; } = stats;

    /// <summary>Call before sending a message: the task completes with its reply.</summary>
    public Task<SimulatedReply> Expect()
    {
        var tcs = new TaskCompletionSource<SimulatedReply>(TaskCreationOptions.RunContinuationsAsynchronously);
        lock (_gate) _pending = tcs;
        Stats.Sent();
        return tcs.Task;
    }

    public void OnReply(string text, SandboxTranscript transcript)
    {
        lock (_gate)
        {
            if (_pending is { } pending)
            {
                _pending = null;
                pending.TrySetResult(new SimulatedReply(text, null));
                return;
            }
            if (_timedOut > 0)
            {
                _timedOut--;
                Stats.Late();
                transcript.Late(Platform, Id, text);
                return;
            }
        }
        Stats.Duplicated();
        transcript.Duplicate(Platform, Id, text);
    }

    /// <summary>The platform refused the waiting message: it will not be answered.</summary>
    public void OnRefused(string reason)
    {
        lock (_gate)
        {
            if (_pending is not { } pending) return;
            _pending = null;
            pending.TrySetResult(new SimulatedReply("", reason));
        }
    }

    /// <summary>The waiting message got no reply in time: a reply arriving later is late, not a duplicate.</summary>
    public void TimedOut(Task<SimulatedReply> expected)
    {
        lock (_gate)
        {
            if (_pending?.Task != expected) return;
            _pending = null;
            _timedOut++;
        }
    }

    /// <summary>End of the run: messages still without a reply are lost.</summary>
    public void Finish()
    {
        lock (_gate) Stats.Lost(_timedOut);
    }
}

/// <summary>Thread-safe counters of one platform.</summary>
internal sealed class PlatformStats(string platform)
{
    private readonly Lock _gate = new();
    private readonly List<double> _latencies = [];
    private int _sent, _answered, _lost, _duplicated, _late, _unsolicited, _failed, _skipped;

    public void Sent() => Interlocked.Increment(ref _sent);
    public void Lost(int n) => Interlocked.Add(ref _lost, n);
    public void Duplicated() => Interlocked.Increment(ref _duplicated);
    public void Late() => Interlocked.Increment(ref _late);
    public void Unsolicited() => Interlocked.Increment(ref _unsolicited);
    public void FailedExpectation() => Interlocked.Increment(ref _failed);
    public void Skipped(int n) => Interlocked.Add(ref _skipped, n);

    public void Answered(double ms)
    {
        Interlocked.Increment(ref _answered);
        lock (_gate) _latencies.Add(ms);
    }

    public PlatformResult Result()
    {
        lock (_gate)
        {
            return new PlatformResult(platform, _sent, _answered, _lost, _duplicated, _late, _unsolicited, _failed, _latencies.ToArray()) { Skipped = _skipped };
        }
    }
}
