namespace MoltBot.Memory.Storage;

/// <summary>
/// The event log's (conversation, time) index, in memory: per conversation, pointers sorted by time (then append
/// order). Built while the segments are opened and kept current by appends and rewrites. About 32 bytes an event.
/// </summary>
public sealed class EventIndex
{
    private readonly Lock _lock = new();
    private readonly Dictionary<string, List<EventPointer>> _byConversation = new(StringComparer.Ordinal);

    public int Count { get; private set; }

    public void Add(string conversationKey, EventPointer pointer)
    {
        lock (_lock) AddLocked(conversationKey, pointer);
    }

    public void AddRange(IReadOnlyList<(string ConversationKey, EventPointer Pointer)> items)
    {
        lock (_lock)
        {
            foreach (var (conversation, pointer) in items) AddLocked(conversation, pointer);
        }
    }

    private void AddLocked(string conversationKey, EventPointer pointer)
    {
        if (!_byConversation.TryGetValue(conversationKey, out var list)) _byConversation[conversationKey] = list = new List<EventPointer>(4);
        // Appends are nearly always in time order; an older timestamp is inserted in place.
        if (list.Count == 0 || list[^1].CompareTo(pointer) <= 0) list.Add(pointer);
        else
        {
            int at = list.BinarySearch(pointer);
            list.Insert(at < 0 ? ~at : at, pointer);
        }
        Count++;
    }

    /// <summary>One conversation's events with fromMs ≤ Ts ≤ toMs, oldest first, at most <paramref name="limit"/>.</summary>
    public List<EventPointer> Range(string conversationKey, long fromMs, long toMs, int limit)
    {
        var result = new List<EventPointer>();
        lock (_lock)
        {
            if (!_byConversation.TryGetValue(conversationKey, out var list)) return result;
            for (int i = LowerBound(list, fromMs); i < list.Count && result.Count < limit && list[i].Ts <= toMs; i++) result.Add(list[i]);
        }
        return result;
    }

    /// <summary>All conversations' events in the range, oldest first (admin and export queries: a full pass).</summary>
    public List<EventPointer> RangeAll(long fromMs, long toMs, int limit)
    {
        var result = new List<EventPointer>();
        lock (_lock)
        {
            foreach (var list in _byConversation.Values)
            {
                for (int i = LowerBound(list, fromMs); i < list.Count && list[i].Ts <= toMs; i++) result.Add(list[i]);
            }
        }
        result.Sort();
        if (result.Count > limit) result.RemoveRange(limit, result.Count - limit);
        return result;
    }

    /// <summary>The last <paramref name="count"/> message events (in/out) of a conversation, oldest first.</summary>
    public List<EventPointer> LastMessages(string conversationKey, int count)
    {
        var result = new List<EventPointer>(count);
        lock (_lock)
        {
            if (!_byConversation.TryGetValue(conversationKey, out var list)) return result;
            for (int i = list.Count - 1; i >= 0 && result.Count < count; i--)
            {
                if (list[i].IsMessage) result.Add(list[i]);
            }
        }
        result.Reverse();
        return result;
    }

    public void Clear()
    {
        lock (_lock)
        {
            _byConversation.Clear();
            Count = 0;
        }
    }

    /// <summary>After a rewrite: drops every pointer into the changed segments and adds what they hold now.</summary>
    public void ReplaceSegments(IReadOnlyDictionary<int, List<(EventRecord Record, EventPointer Pointer)>> changed)
    {
        lock (_lock)
        {
            foreach (var key in _byConversation.Keys.ToList())
            {
                var list = _byConversation[key];
                Count -= list.RemoveAll(p => changed.ContainsKey(p.Segment));
                if (list.Count == 0) _byConversation.Remove(key);
            }
            foreach (var (record, pointer) in changed.Values.SelectMany(x => x)) AddLocked(record.Conv, pointer);
        }
    }

    private static int LowerBound(List<EventPointer> list, long fromMs)
    {
        int lo = 0, hi = list.Count;
        while (lo < hi)
        {
            int mid = (lo + hi) >>> 1;
            if (list[mid].Ts < fromMs) lo = mid + 1;
            else hi = mid;
        }
        return lo;
    }
}
