using MoltBot.Contracts.Messaging;
using MoltBot.Contracts.Pipeline;

namespace MoltBot.Dialog;

/// <summary>Decides how to answer each message.</summary>
public sealed class DialogManager : IMessageHandler
{
    public async Task HandleAsync(Envelope envelope, IReplyWriter reply, CancellationToken cancellationToken)
    {
        await reply.FinalAsync(new Reply($"MoltBot received: {envelope.Text}") { Source = "dialog" }, cancellationToken);
    }
}
