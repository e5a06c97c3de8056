using Microsoft.Extensions.Options;

namespace MoltBot.Gateway;

/// <summary>One message of a gateway conversation, as returned by the history frame and the HTTP API.</summary>
/// <param name="Direction">"in" (from the user) or "out" (from MoltBot).</param>
public sealed record HistoryEntry(string Id, string Direction, string UserId, string Text, long TimestampMs)
{
    public string? Language { get; init; }
    public string? Source { get; init; }
}

/// <summary>
/// The last Gateway:HistoryPerConversation messages of each of the Gateway:HistoryConversations most recently
/// active conversations, in memory. Bounded both ways: the oldest message and the least recently used
/// conversation are forgotten first.
/// </summary>
public sealed class ConversationHistory(IOptions<GatewayOptions> options)
{
    private readonly int _perConversation = options.Value.HistoryPerConversation;
    private readonly int _conversations = options.Value.HistoryConversations;
    private readonly Dictionary<string, LinkedListNode<(string Key, Queue<HistoryEntry> Items)>> _map = new(StringComparer.Ordinal);
    private readonly LinkedList<(string Key, Queue<HistoryEntry> Items)> _lru = new();
    private readonly Lock _gate = new();

    public static string Key(string platform, string conversationId) => platform + ":" + conversationId;

    public void Add(string platform, string conversationId, HistoryEntry entry)
    {
        string key = Key(platform, conversationId);
        lock (_gate)
        {
            if (_map.TryGetValue(key, out var node))
            {
                _lru.Remove(node);
                _lru.AddFirst(node);
            }
            else
            {
                node = _lru.AddFirst((key, new Queue<HistoryEntry>()));
                _map[key] = node;
                while (_map.Count > _conversations)
                {
                    var last = _lru.Last!;
                    _lru.RemoveLast();
                    _map.Remove(last.Value.Key);
                }
            }
            var items = node.Value.Items;
            items.Enqueue(entry);
            while (items.Count > _perConversation) items.Dequeue();
        }
    }

    /// <summary>Forgets a message that was recorded but then not accepted by the pipeline (queue full).</summary>
    public void Remove(string platform, string conversationId, string id)
    {
        lock (_gate)
        {
            if (!_map.TryGetValue(Key(platform, conversationId), out var node)) return;
            var kept = node.Value.Items.Where(e => e.Id != id).ToArray();
            node.Value.Items.Clear();
            foreach (var e in kept) node.Value.Items.Enqueue(e);
        }
    }

    /// <summary>The last <paramref name="take"/> messages, oldest first.</summary>
    public IReadOnlyList<HistoryEntry> Last(string platform, string conversationId, int take)
    {
        lock (_gate)
        {
            if (!_map.TryGetValue(Key(platform, conversationId), out var node)) return [];
            var items = node.Value.Items;
            return items.Skip(Math.Max(0, items.Count - take)).ToArray();
        }
    }
}
