namespace MoltBot.Memory;

/// <summary>A thread-safe least-recently-used cache. It only caches: callers write through to storage first, so eviction loses nothing.</summary>
public sealed class LruCache<TKey, TValue>(int capacity) where TKey : notnull
{
    private readonly Dictionary<TKey, LinkedListNode<(TKey Key, TValue Value)>> _map = new();
    private readonly LinkedList<(TKey Key, TValue Value)> _order = new();
    private readonly Lock _lock = new();

    public int Capacity { get; } = capacity > 0 ? capacity : throw new ArgumentOutOfRangeException(nameof(capacity));

    public int Count
    {
        get { lock (_lock) return _map.Count; }
    }

    public long Evictions { get; private set; }

    public bool TryGet(TKey key, out TValue value)
    {
        lock (_lock)
        {
            if (_map.TryGetValue(key, out var node))
            {
                _order.Remove(node);
                _order.AddFirst(node);
                value = node.Value.Value;
                return true;
            }
        }
        value = default!;
        return false;
    }

    public void Set(TKey key, TValue value)
    {
        lock (_lock)
        {
            if (_map.TryGetValue(key, out var node))
            {
                node.Value = (key, value);
                _order.Remove(node);
                _order.AddFirst(node);
                return;
            }
            _map[key] = _order.AddFirst((key, value));
            if (_map.Count > Capacity)
            {
                var last = _order.Last!;
                _order.RemoveLast();
                _map.Remove(last.Value.Key);
                Evictions++;
            }
        }
    }

    public bool Remove(TKey key)
    {
        lock (_lock)
        {
            if (!_map.Remove(key, out var node)) return false;
            _order.Remove(node);
            return true;
        }
    }

    public void RemoveWhere(Func<TKey, TValue, bool> predicate)
    {
        lock (_lock)
        {
            foreach (var (k, v) in _order.Where(e => predicate(e.Key, e.Value)).ToList()) Remove(k);
        }
    }

    public void Clear()
    {
        lock (_lock)
        {
            _map.Clear();
            _order.Clear();
        }
    }

    public IReadOnlyList<TKey> Keys()
    {
        lock (_lock) return _map.Keys.ToList();
    }
}
