using MoltBot.Contracts.Messaging;

namespace MoltBot.Contracts.Pipeline;

/// <summary>
/// The entry of the pipeline. Adapters publish normalized envelopes here. The queue is bounded:
/// <see cref="EnqueueAsync"/> waits while it is full (back-pressure), <see cref="TryEnqueue"/> does not wait
/// and returns <see cref="EnqueueResult.Full"/> so a webhook can answer 503/429 and let the platform retry.
/// </summary>
public interface IInboundQueue
{
    /// <summary>Waits for room. Throws <see cref="PipelineClosedException"/> once the pipeline is shutting down.</summary>
    ValueTask EnqueueAsync(Envelope envelope, CancellationToken cancellationToken);

    /// <summary>Never waits.</summary>
    EnqueueResult TryEnqueue(Envelope envelope);

    /// <summary>Messages waiting in the inbound queue (not yet routed to a shard).</summary>
    int Depth { get; }
}

public enum EnqueueResult
{
    Accepted,
    /// <summary>The queue is full: ask the sender to retry later (HTTP 503/429).</summary>
    Full,
    /// <summary>The pipeline is shutting down and accepts nothing new.</summary>
    Closed,
    /// <summary>A message with the same platform message id was already accepted (webhook retry, replay).</summary>
    Duplicate,
}

public sealed class PipelineClosedException() : InvalidOperationException("MoltBot is shutting down and accepts no new messages.");
