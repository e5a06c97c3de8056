namespace MoltBot.Contracts.Messaging;

/// <summary>
/// An event travelling from the pipeline back to a channel adapter: typing, a streamed delta, the final reply,
/// or an error. Adapters that cannot stream ignore <see cref="OutboundKind.Delta"/> and send the final text.
/// </summary>
public sealed record OutboundMessage
{
    public required OutboundKind Kind { get; init; }
    public required string Platform { get; init; }
    public string Account { get; init; } = "default";
    public required string ConversationId { get; init; }
    public required string UserId { get; init; }

    /// <summary>The envelope id this answers (correlates request and reply).</summary>
    public required string InReplyTo { get; init; }

    /// <summary>The platform message id to thread the reply under, if the platform supports it.</summary>
    public string? ReplyToPlatformMessageId { get; init; }

    /// <summary>For Delta: the new text fragment. For Final: the whole reply text. For Error: a user-facing message.</summary>
    public string Text { get; init; } = "";

    /// <summary>Optional structured content (e.g. a skill's card) as JSON.</summary>
    public string? CardJson { get; init; }

    public string? Language { get; init; }

    /// <summary>Milliseconds since the Unix epoch, UTC.</summary>
    public long TimestampMs { get; init; }

    /// <summary>Free-form details for tracing (which model or skill produced it).</summary>
    public string? Source { get; init; }
}

public enum OutboundKind
{
    Typing,
    Delta,
    Final,
    Error,
}

/// <summary>The final answer a handler produces for one inbound message.</summary>
public sealed record Reply(string Text)
{
    public string? CardJson { get; init; }
    public string? Language { get; init; }

    /// <summary>What produced the reply, e.g. "skill:time", "lm:student", "dialog:clarify".</summary>
    public string? Source { get; init; }
}
