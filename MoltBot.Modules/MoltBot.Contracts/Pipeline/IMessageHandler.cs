using MoltBot.Contracts.Messaging;

namespace MoltBot.Contracts.Pipeline;

/// <summary>
/// Handles one inbound message on a shard worker (the dialog manager implements it). The worker guarantees that
/// messages of one user arrive here one at a time, in order.
/// </summary>
public interface IMessageHandler
{
    Task HandleAsync(Envelope envelope, IReplyWriter reply, CancellationToken cancellationToken);
}

/// <summary>
/// How a handler answers: zero or more typing/delta events, then exactly one final reply (the worker sends an
/// apology as the final reply if the handler throws or never calls <see cref="FinalAsync"/>).
/// </summary>
public interface IReplyWriter
{
    ValueTask TypingAsync(CancellationToken cancellationToken);
    ValueTask DeltaAsync(string text, CancellationToken cancellationToken);
    ValueTask FinalAsync(Reply reply, CancellationToken cancellationToken);

    /// <summary>True once <see cref="FinalAsync"/> has been called.</summary>
    bool Completed { get; }
}
