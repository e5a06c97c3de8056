namespace MoltBot.Contracts.Memory;

/// <summary>
/// Records a whole turn at once: the user's message, the dialog events it produced and the reply, in that order,
/// durable in one event-log group commit (one fsync) instead of one for the message and another for the rest.
/// Each message is stored as <see cref="IConversationStore.RecordMessageAsync"/> stores it.
/// </summary>
public interface ITurnRecorder
{
    ValueTask RecordTurnAsync(ConversationMessage inbound, IReadOnlyList<LoggedEvent> events, ConversationMessage reply, CancellationToken cancellationToken);
}
