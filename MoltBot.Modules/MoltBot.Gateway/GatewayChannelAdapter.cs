using MoltBot.Contracts.Messaging;
using MoltBot.Contracts.Pipeline;

namespace MoltBot.Gateway;

/// <summary>
/// The pipeline's view of the gateway: one adapter per platform name ("web" for WebSocket and web chat,
/// "http" for the HTTP API), both delivering through the same router.
/// </summary>
public sealed class GatewayChannelAdapter(string platform, OutboundRouter router) : IChannelAdapter
{
    public string Platform => platform;

    public ChannelState State => ChannelState.Connected;

    public ValueTask SendAsync(OutboundMessage message, CancellationToken cancellationToken)
    {
        router.Route(message);
        return ValueTask.CompletedTask;
    }
}
