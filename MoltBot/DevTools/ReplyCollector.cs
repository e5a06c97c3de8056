using MoltBot.Contracts.Messaging;
using MoltBot.Contracts.Pipeline;

namespace MoltBot.DevTools;

/// <summary>An <see cref="IReplyWriter"/> that keeps the final reply (typing and deltas are not needed by the tools).</summary>
internal sealed class ReplyCollector : IReplyWriter
{
    public Reply? Final { get; private set; }

    /// <summary>True when the handler threw: the pipeline would have answered with an apology.</summary>
    public bool Failed { get; private set; }

    public bool Completed => Final is not null;

    public void Fail() => Failed = true;

    public ValueTask TypingAsync(CancellationToken cancellationToken) => ValueTask.CompletedTask;

    public ValueTask DeltaAsync(string text, CancellationToken cancellationToken) => ValueTask.CompletedTask;

    public ValueTask FinalAsync(Reply reply, CancellationToken cancellationToken)
    {
        Final = reply;
        return ValueTask.CompletedTask;
    }
}
