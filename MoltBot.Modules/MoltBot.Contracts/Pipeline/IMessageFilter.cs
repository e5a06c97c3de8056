using MoltBot.Contracts.Messaging;

namespace MoltBot.Contracts.Pipeline;

/// <summary>
/// Runs on the shard worker before the handler sees a message (e.g. PII masking, de-duplication stores).
/// Filters run in registration order; a filter returning null stops the message (it must say why in the log).
/// </summary>
public interface IInboundFilter
{
    ValueTask<Envelope?> ApplyAsync(Envelope envelope, CancellationToken cancellationToken);
}

/// <summary>Runs on every outbound event before it reaches the adapter (e.g. restoring masked values).</summary>
public interface IOutboundFilter
{
    ValueTask<OutboundMessage> ApplyAsync(OutboundMessage message, CancellationToken cancellationToken);
}
