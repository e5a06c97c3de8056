using MoltBot.Contracts.Messaging;

namespace MoltBot.Contracts.Pipeline;

/// <summary>
/// A connection to one platform. Inbound: the adapter publishes to <see cref="IInboundQueue"/>. Outbound: the
/// dispatcher calls <see cref="SendAsync"/> for every event addressed to <see cref="Platform"/>.
/// </summary>
public interface IChannelAdapter
{
    string Platform { get; }

    /// <summary>Delivers one outbound event. Throwing means "not delivered": the dispatcher retries or persists it.</summary>
    ValueTask SendAsync(OutboundMessage message, CancellationToken cancellationToken);

    /// <summary>Connection state for /readyz and /metrics.</summary>
    ChannelState State { get; }
}

public enum ChannelState
{
    Disabled,
    Connecting,
    Connected,
    Reconnecting,
    CircuitOpen,
}
