using MoltBot.Contracts.Messaging;

namespace MoltBot.Gateway;

/// <summary>Something waiting for the outbound events of a message: a WebSocket session or an HTTP request.</summary>
internal interface IReplySink
{
    /// <summary>Takes one event without waiting. False when the sink is gone (session expired, request ended).</summary>
    bool Deliver(OutboundMessage message);
}
