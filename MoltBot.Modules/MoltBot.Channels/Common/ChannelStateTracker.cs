using MoltBot.Contracts.Pipeline;

namespace MoltBot.Channels.Common;

/// <summary>
/// The connection state of one platform as /readyz and /metrics show it. An open circuit overrides the
/// connection state until it closes again.
/// </summary>
public sealed class ChannelStateTracker(string platform)
{
    private volatile int _state = (int)ChannelState.Disabled;
    private volatile bool _circuitOpen;
    private readonly Lock _gate = new();
    private TaskCompletionSource _connected = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public string Platform { get; } = platform;

    /// <summary>Connection losses since start (a seamless refresh does not count).</summary>
    public int ReconnectCount { get; private set; }

    public ChannelState State => _circuitOpen && _state != (int)ChannelState.Disabled ? ChannelState.CircuitOpen : (ChannelState)_state;

    public void Set(ChannelState state)
    {
        lock (_gate)
        {
            var old = (ChannelState)_state;
            _state = (int)state;
            if (state == ChannelState.Connected)
            {
                _connected.TrySetResult();
            }
            else if (_connected.Task.IsCompleted)
            {
                _connected = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            }
            if (old != ChannelState.Reconnecting && state == ChannelState.Reconnecting)
            {
                ReconnectCount++;
                ChannelMetrics.Reconnects.WithLabels(Platform).Inc();
            }
        }
    }

    /// <summary>Completes when the platform is (again) connected: the outbox waits on it before retrying.</summary>
    public Task WhenConnected
    {
        get { lock (_gate) return _connected.Task; }
    }

    internal void CircuitOpened() => _circuitOpen = true;
    internal void CircuitClosed() => _circuitOpen = false;
}
