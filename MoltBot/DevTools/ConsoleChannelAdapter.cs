using System.Threading.Channels;
using MoltBot.Contracts.Messaging;
using MoltBot.Contracts.Pipeline;

namespace MoltBot.DevTools;

/// <summary>
/// The terminal as a channel (platform "cli"), for `moltbot chat`: prints streamed deltas as they arrive and
/// signals when a message's final reply has been printed.
/// </summary>
public sealed class ConsoleChannelAdapter(TextWriter output) : IChannelAdapter
{
    private readonly Channel<OutboundMessage> _finals = Channel.CreateBounded<OutboundMessage>(64);
    private readonly HashSet<string> _streamed = [];

    public string Platform => Platforms.Cli;
    public ChannelState State => ChannelState.Connected;

    public async ValueTask SendAsync(OutboundMessage message, CancellationToken cancellationToken)
    {
        switch (message.Kind)
        {
            case OutboundKind.Delta:
                if (_streamed.Add(message.InReplyTo)) await output.WriteAsync("moltbot> ");
                await output.WriteAsync(message.Text);
                await output.FlushAsync(cancellationToken);
                break;
            case OutboundKind.Final or OutboundKind.Error:
                // A streamed reply was already printed token by token; only finish its line.
                await output.WriteLineAsync(_streamed.Remove(message.InReplyTo) ? "" : "moltbot> " + message.Text);
                await output.FlushAsync(cancellationToken);
                await _finals.Writer.WriteAsync(message, cancellationToken);
                break;
        }
    }

    /// <summary>Waits for the final reply to the message with this envelope id.</summary>
    public async Task WaitForReplyAsync(string envelopeId, CancellationToken cancellationToken)
    {
        while (true)
        {
            var final = await _finals.Reader.ReadAsync(cancellationToken);
            if (final.InReplyTo == envelopeId) return;
        }
    }
}
