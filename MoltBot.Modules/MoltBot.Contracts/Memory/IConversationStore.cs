namespace MoltBot.Contracts.Memory;

/// <summary>
/// Long-term conversation storage: one call records a message in the messages collection, the conversation's
/// counters, the event log and the short-term buffer, in one group-committed transaction.
/// </summary>
public interface IConversationStore
{
    /// <summary>Completes once the message is durable (acknowledged). A message with an embedding is also added to vector recall.</summary>
    ValueTask RecordMessageAsync(ConversationMessage message, CancellationToken cancellationToken);
}

/// <param name="Id">Unique message id (the envelope id for inbound messages).</param>
/// <param name="ConversationKey">platform:conversationId.</param>
/// <param name="UserKey">platform:userId.</param>
/// <param name="Direction">"in" (user) or "out" (MoltBot).</param>
public sealed record ConversationMessage(string Id, string ConversationKey, string UserKey, string Direction, string Text, long TimestampMs)
{
    public string? Intent { get; init; }
    public string? Language { get; init; }

    /// <summary>L2-normalized sentence embedding for vector recall of past messages, or null to skip recall indexing.</summary>
    public float[]? Embedding { get; init; }
}

/// <summary>Short-term memory: the last turns of a conversation (ring buffer, rebuilt from the event log after a restart).</summary>
public interface IShortTermMemory
{
    /// <summary>Up to <paramref name="count"/> most recent turns, oldest first.</summary>
    ValueTask<IReadOnlyList<Turn>> RecentAsync(string conversationKey, int count, CancellationToken cancellationToken);
}

/// <param name="Role">"user" or "assistant".</param>
public sealed record Turn(string Role, string Text, long TimestampMs);
