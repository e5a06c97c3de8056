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
/// active conversations, in memory, and at most Gateway:HistoryTotalBytes for all of them together (the two counts
/// multiply; the bytes do not). The oldest message and the least recently used conversation are forgotten first; a
/// conversation is forgotten whole, so its history is then read from the memory module's store
/// (<see cref="HistoryReader"/>), never answered half from here.
/// </summary>
public sealed class ConversationHistory(IOptions<GatewayOptions> options)
{
    private readonly int _perConversation = options.Value.HistoryPerConversation;
    private readonly int _conversations = options.Value.HistoryConversations;
    private readonly long _totalBytes = options.Value.HistoryTotalBytes;
    private readonly Dictionary<string, LinkedListNode<Conversation>> _map = new(StringComparer.Ordinal);
    private readonly LinkedList<Conversation> _lru = new();
    private readonly Lock _gate = new();
    private long _bytes;

    public static string Key(string platform, string conversationId) => platform + ":" + conversationId;

    /// <summary>What the held messages take, as <see cref="SizeOf"/> counts them.</summary>
    public long HeldBytes
    {
        get { lock (_gate) return _bytes; }
    }

    /// <summary>
    /// The managed bytes of one entry: the object and its queue slot, and its own strings (UTF-16, with their
    /// headers); the direction is a shared literal.
    /// </summary>
    internal static long SizeOf(HistoryEntry e) =>
        80 + 3 * 24 + 2L * (e.Id.Length + e.UserId.Length + e.Text.Length) + (e.Language?.Length ?? 0) + (e.Source?.Length ?? 0);

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
                node = _lru.AddFirst(new Conversation(key));
                _map[key] = node;
                while (_map.Count > _conversations) ForgetLeastRecentLocked();
            }
            var conversation = node.Value;
            conversation.Items.Enqueue(entry);
            long size = SizeOf(entry);
            conversation.Bytes += size;
            _bytes += size;
            while (conversation.Items.Count > _perConversation) DropOldestLocked(conversation);
            while (_bytes > _totalBytes && _lru.Last != node) ForgetLeastRecentLocked();
            // One conversation over the whole budget keeps its newest messages.
            while (_bytes > _totalBytes && conversation.Items.Count > 1) DropOldestLocked(conversation);
        }
    }

    private void DropOldestLocked(Conversation conversation)
    {
        long size = SizeOf(conversation.Items.Dequeue());
        conversation.Bytes -= size;
        _bytes -= size;
    }

    private void ForgetLeastRecentLocked()
    {
        var last = _lru.Last!;
        _lru.RemoveLast();
        _map.Remove(last.Value.Key);
        _bytes -= last.Value.Bytes;
    }

    /// <summary>Forgets a message that was recorded but then not accepted by the pipeline (queue full).</summary>
    public void Remove(string platform, string conversationId, string id)
    {
        lock (_gate)
        {
            if (!_map.TryGetValue(Key(platform, conversationId), out var node)) return;
            var conversation = node.Value;
            var kept = conversation.Items.Where(e => e.Id != id).ToArray();
            conversation.Items.Clear();
            _bytes -= conversation.Bytes;
            conversation.Bytes = 0;
            foreach (var e in kept)
            {
                conversation.Items.Enqueue(e);
                conversation.Bytes += SizeOf(e);
            }
            _bytes += conversation.Bytes;
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

    private sealed class Conversation(string key)
    {
        public string Key { get; } = key;
        public Queue<HistoryEntry> Items { get; } = new();
        public long Bytes { get; set; }
    }
}
