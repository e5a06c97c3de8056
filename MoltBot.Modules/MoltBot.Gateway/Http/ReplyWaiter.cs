using System.Threading.Channels;
using MoltBot.Contracts.Messaging;

namespace MoltBot.Gateway.Http;

/// <summary>
/// Receives the outbound events of one HTTP request's message. Bounded: a streaming client that falls more than
/// 1024 events behind is cut off (the reply stays in the history) instead of growing memory.
/// </summary>
internal sealed class ReplyWaiter(bool streaming) : IReplySink
{
    private readonly Channel<OutboundMessage> _events = Channel.CreateBounded<OutboundMessage>(new BoundedChannelOptions(1024)
    {
        SingleReader = true,
        FullMode = BoundedChannelFullMode.Wait,
    });

    public ChannelReader<OutboundMessage> Events => _events.Reader;

    public bool Deliver(OutboundMessage message)
    {
        bool final = message.Kind is OutboundKind.Final or OutboundKind.Error;
        if (!final && !(streaming && message.Kind == OutboundKind.Delta)) return true; // not needed by this caller
        if (!_events.Writer.TryWrite(message))
        {
            _events.Writer.TryComplete(new InvalidOperationException("The client reads the reply stream too slowly."));
            return false;
        }
        if (final) _events.Writer.TryComplete();
        return true;
    }
}
