using System.Collections.Concurrent;
using Microsoft.Extensions.Options;
using MoltBot.Contracts.Memory;
using MoltBot.Memory.Storage;

namespace MoltBot.Memory;

/// <summary>
/// Short-term memory: a ring buffer of the last Memory:ShortTermTurns turns per conversation. A conversation not
/// in memory (after a restart, or evicted) is rebuilt from the event log on first use.
/// </summary>
public sealed class ShortTermMemory(EventLog eventLog, IOptions<MemoryOptions> options) : IShortTermMemory
{
    private readonly ConcurrentDictionary<string, RingBuffer> _buffers = new();
    private readonly int _capacity = options.Value.ShortTermTurns;
    private readonly int _maxConversations = options.Value.ShortTermConversations;

    internal int LoadedConversations => _buffers.Count;

    public async ValueTask<IReadOnlyList<Turn>> RecentAsync(string conversationKey, int count, CancellationToken cancellationToken)
    {
        var buffer = _buffers.GetOrAdd(conversationKey, key => new RingBuffer(_capacity, () => eventLog.LastMessages(key, _capacity)));
        await buffer.Loaded.WaitAsync(cancellationToken).ConfigureAwait(false);
        TrimIfNeeded();
        return buffer.Recent(count);
    }

    private long _order;

    /// <summary>Taken when a message's write is issued: the buffer keeps that order even if later writes commit first.</summary>
    internal long NextOrder() => Interlocked.Increment(ref _order);

    /// <summary>Called after a message committed; a conversation not loaded is left alone (its rebuild reads the log).</summary>
    internal void OnCommitted(string conversationKey, string messageId, Turn turn, long order)
    {
        if (_buffers.TryGetValue(conversationKey, out var buffer)) buffer.Add(messageId, turn, order);
    }

    internal void Forget(string conversationKey) => _buffers.TryRemove(conversationKey, out _);

    private void TrimIfNeeded()
    {
        if (_buffers.Count <= _maxConversations) return;
        // Drop the least recently used tenth; they are rebuilt from the event log when needed again.
        foreach (var key in _buffers.OrderBy(kv => kv.Value.LastUsed).Take(Math.Max(1, _buffers.Count - _maxConversations + _maxConversations / 10)).Select(kv => kv.Key).ToList())
        {
            _buffers.TryRemove(key, out _);
        }
    }

    private sealed class RingBuffer
    {
        private readonly Lock _lock = new();
        private readonly List<(string Id, Turn Turn, long Order)> _turns = new();
        private readonly int _capacity;

        public RingBuffer(int capacity, Func<IReadOnlyList<EventRecord>> load)
        {
            _capacity = capacity;
            Loaded = Task.Run(() => Merge(load()));
        }

        public Task Loaded { get; }
        public long LastUsed { get; private set; } = Environment.TickCount64;

        public void Add(string id, Turn turn, long order)
        {
            lock (_lock)
            {
                if (_turns.Any(t => t.Id == id)) return;
                // A turn's writes complete concurrently: keep time order, then the order the writes were issued in.
                int at = _turns.Count;
                while (at > 0 && (_turns[at - 1].Turn.TimestampMs, _turns[at - 1].Order).CompareTo((turn.TimestampMs, order)) > 0) at--;
                _turns.Insert(at, (id, turn, order));
                if (_turns.Count > _capacity) _turns.RemoveRange(0, _turns.Count - _capacity);
            }
        }

        public IReadOnlyList<Turn> Recent(int count)
        {
            lock (_lock)
            {
                LastUsed = Environment.TickCount64;
                return _turns.Skip(Math.Max(0, _turns.Count - count)).Select(t => t.Turn).ToList();
            }
        }

        // Turns committed while the log was being read were added already; merge without duplicates, in time order.
        private void Merge(IReadOnlyList<EventRecord> fromLog)
        {
            lock (_lock)
            {
                var known = _turns.Select(t => t.Id).ToHashSet();
                var loaded = fromLog.Where(e => e.Ref is null || !known.Contains(e.Ref))
                    .Select((e, i) => (e.Ref ?? e.Kind + "@" + e.Ts + ":" + e.Text, new Turn(e.Kind == EventKinds.MessageIn ? "user" : "assistant", e.Text ?? "", e.Ts), long.MinValue + i));
                // The log's order first (it was written before anything committed since), then time order.
                var all = loaded.Concat(_turns).OrderBy(t => t.Item2.TimestampMs).ToList();
                _turns.Clear();
                _turns.AddRange(all.Skip(Math.Max(0, all.Count - _capacity)));
            }
        }
    }
}
