using MoltBot.Contracts.Messaging;

namespace MoltBot.Contracts.Pipeline;

/// <summary>
/// The pipeline's outbound side. Handlers normally answer through <see cref="IReplyWriter"/>; components that
/// speak first (a reminder firing, a broadcast) enqueue here. Bounded: waits while full.
/// </summary>
public interface IOutboundQueue
{
    ValueTask EnqueueAsync(OutboundMessage message, CancellationToken cancellationToken);

    int Depth { get; }
}
