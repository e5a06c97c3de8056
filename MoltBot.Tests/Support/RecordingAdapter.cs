using System.Collections.Concurrent;
using MoltBot.Contracts.Messaging;
using MoltBot.Contracts.Pipeline;

namespace MoltBot.Tests;

/// <summary>An in-memory channel adapter for pipeline tests: records every outbound event it is given.</summary>
public sealed class RecordingAdapter(string platform = "test") : IChannelAdapter
{
    private readonly ConcurrentQueue<OutboundMessage> _events = new();
    private readonly SemaphoreSlim _finals = new(0);
    private readonly ChangeSignal _sent = new();

    public string Platform => platform;
    public ChannelState State => ChannelState.Connected;
    public IReadOnlyCollection<OutboundMessage> Events => _events;
    public IEnumerable<OutboundMessage> Finals => _events.Where(e => e.Kind is OutboundKind.Final or OutboundKind.Error);

    public ValueTask SendAsync(OutboundMessage message, CancellationToken cancellationToken)
    {
        _events.Enqueue(message);
        if (message.Kind is OutboundKind.Final or OutboundKind.Error) _finals.Release();
        _sent.Pulse();
        return ValueTask.CompletedTask;
    }

    /// <summary>True once an event matching <paramref name="match"/> has been sent; false if <paramref name="timeout"/> passes first.</summary>
    public Task<bool> WaitForEventAsync(Func<OutboundMessage, bool> match, TimeSpan timeout) =>
        _sent.WaitUntilAsync(() => _events.Any(match), timeout);

    /// <summary>Waits until <paramref name="count"/> final (or error) events have arrived in total.</summary>
    public async Task WaitForFinalsAsync(int count, TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        while (Finals.Count() < count) await _finals.WaitAsync(cts.Token);
    }

    public static Envelope Message(string user, string text, string? id = null, string platform = "test", string? platformMessageId = null) => new()
    {
        Id = id ?? Guid.NewGuid().ToString("N"),
        Platform = platform,
        ConversationId = "conv-" + user,
        UserId = user,
        Text = text,
        PlatformMessageId = platformMessageId,
        TimestampMs = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds(),
    };
}

/// <summary>A handler built from a delegate, for tests that need a specific behaviour.</summary>
public sealed class DelegateHandler(Func<Envelope, IReplyWriter, CancellationToken, Task> body) : IMessageHandler
{
    public Task HandleAsync(Envelope envelope, IReplyWriter reply, CancellationToken cancellationToken) => body(envelope, reply, cancellationToken);

    public static DelegateHandler Echo(TimeSpan? delay = null) => new(async (e, r, ct) =>
    {
        if (delay is { } d) await Task.Delay(d, ct);
        await r.FinalAsync(new Reply("echo: " + e.Text), ct);
    });
}
