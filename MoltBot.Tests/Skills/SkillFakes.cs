using System.Collections.Concurrent;
using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using MoltBot.Contracts.Memory;
using MoltBot.Contracts.Messaging;
using MoltBot.Contracts.Pipeline;

namespace MoltBot.Tests.Skills;

/// <summary>An outbound queue that records what skills send (bounded, like the real one).</summary>
public sealed class RecordingOutboundQueue : IOutboundQueue
{
    private readonly Channel<OutboundMessage> _sent = Channel.CreateBounded<OutboundMessage>(1000);

    public int Depth => _sent.Reader.Count;

    public ValueTask EnqueueAsync(OutboundMessage message, CancellationToken cancellationToken) => _sent.Writer.WriteAsync(message, cancellationToken);

    /// <summary>The next message, or null if none arrives within the (real-time) wait.</summary>
    public async Task<OutboundMessage?> NextAsync(TimeSpan wait)
    {
        using var cts = new CancellationTokenSource(wait);
        try
        {
            return await _sent.Reader.ReadAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            return null;
        }
    }
}

/// <summary>Fact memory scored by shared words (the real one uses sentence embeddings).</summary>
public sealed class FakeFactMemory : IFactMemory
{
    public ConcurrentDictionary<string, List<string>> Facts { get; } = new();

    public Task<string> RememberAsync(string userKey, string fact, CancellationToken cancellationToken)
    {
        var list = Facts.GetOrAdd(userKey, _ => []);
        lock (list) list.Add(fact);
        return Task.FromResult("fact-" + list.Count);
    }

    public Task<IReadOnlyList<RecalledFact>> RecallAsync(string userKey, string query, int k, CancellationToken cancellationToken)
    {
        var list = Facts.GetOrAdd(userKey, _ => []);
        var q = Words(query);
        List<RecalledFact> hits;
        lock (list)
        {
            hits = list.Select((f, i) => new RecalledFact("fact-" + (i + 1), f, Score(q, Words(f)), 0))
                .OrderByDescending(f => f.Score).Take(k).ToList();
        }
        return Task.FromResult<IReadOnlyList<RecalledFact>>(hits);
    }

    private static HashSet<string> Words(string s) =>
        s.ToLowerInvariant().Split([' ', ',', '.', '?', '\''], StringSplitOptions.RemoveEmptyEntries)
            .Concat(s.Where(c => c >= '\u4e00' && c <= '\u9fff').Select(c => c.ToString())).ToHashSet();

    private static float Score(HashSet<string> a, HashSet<string> b) => a.Count == 0 || b.Count == 0 ? 0 : (float)a.Intersect(b).Count() / Math.Min(a.Count, b.Count);
}

/// <summary>Keeps every log event so tests can check that failures are logged (with the trace id).</summary>
public sealed class CapturingLoggerProvider : ILoggerProvider
{
    public ConcurrentQueue<(LogLevel Level, string Category, string Message, Exception? Exception)> Events { get; } = new();

    public ILogger CreateLogger(string categoryName) => new Logger(this, categoryName);

    public void Dispose()
    {
    }

    private sealed class Logger(CapturingLoggerProvider owner, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            owner.Events.Enqueue((logLevel, category, formatter(state, exception), exception));
    }
}
