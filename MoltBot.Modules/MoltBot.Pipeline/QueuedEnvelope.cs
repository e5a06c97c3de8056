using System.Diagnostics;
using MoltBot.Contracts.Messaging;

namespace MoltBot.Pipeline;

/// <summary>An envelope plus the moment it entered the pipeline (for queue-wait and total timings).</summary>
internal readonly record struct QueuedEnvelope(Envelope Envelope, long EnqueuedTimestamp)
{
    public static QueuedEnvelope Now(Envelope envelope) => new(envelope, Stopwatch.GetTimestamp());
}

/// <summary>An outbound event plus, for final replies, when its inbound message entered the pipeline.</summary>
internal readonly record struct QueuedOutbound(OutboundMessage Message, long EnqueuedTimestamp, long InboundTimestamp);
