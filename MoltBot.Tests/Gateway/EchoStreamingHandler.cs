using System.Collections.Concurrent;
using MoltBot.Contracts.Messaging;
using MoltBot.Contracts.Pipeline;

namespace MoltBot.Tests.Gateway;

/// <summary>
/// A deterministic stand-in for the dialog manager: typing, then one delta per word of "echo: {text}", then the
/// final text. "flood:N:S" streams N deltas of S characters; "hold" waits for <see cref="Release"/>.
/// </summary>
public sealed class EchoStreamingHandler : IMessageHandler
{
    private readonly TaskCompletionSource _release = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public ConcurrentDictionary<string, int> Calls { get; } = new();

    public int TotalCalls => Calls.Values.Sum();

    private readonly ChangeSignal _called = new();

    /// <summary>Waits (without polling) until at least <paramref name="count"/> messages have reached the handler.</summary>
    public async Task WaitForCallsAsync(int count, TimeSpan timeout)
    {
        Assert.True(await _called.WaitUntilAsync(() => TotalCalls >= count, timeout), $"the handler saw {TotalCalls} of {count} messages");
    }

    public void Release() => _release.TrySetResult();

    public static string ReplyTo(string text) => "echo: " + text;

    public async Task HandleAsync(Envelope envelope, IReplyWriter reply, CancellationToken cancellationToken)
    {
        Calls.AddOrUpdate(envelope.Text, 1, (_, n) => n + 1);
        _called.Pulse();
        await reply.TypingAsync(cancellationToken);
        if (envelope.Text == "hold") await _release.Task.WaitAsync(cancellationToken);
        if (envelope.Text.StartsWith("flood:", StringComparison.Ordinal))
        {
            var parts = envelope.Text.Split(':');
            string chunk = new('x', int.Parse(parts[2]));
            for (int i = 0; i < int.Parse(parts[1]); i++) await reply.DeltaAsync(chunk, cancellationToken);
            await reply.FinalAsync(new Reply("flooded"), cancellationToken);
            return;
        }
        string full = ReplyTo(envelope.Text);
        var words = full.Split(' ');
        for (int i = 0; i < words.Length; i++)
        {
            await reply.DeltaAsync(i == 0 ? words[i] : " " + words[i], cancellationToken);
        }
        await reply.FinalAsync(new Reply(full) { Source = "test:echo", Language = envelope.Language }, cancellationToken);
    }
}
