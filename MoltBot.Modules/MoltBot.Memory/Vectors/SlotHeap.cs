namespace MoltBot.Memory.Vectors;

/// <summary>
/// A binary max-heap of (distance, slot) pairs in two parallel arrays, reused across searches (no per-query
/// allocation, unlike PriorityQueue's tuple nodes). The HNSW beam keeps its results in one (worst on top) and its
/// candidates in another with negated distances (closest on top).
/// </summary>
internal sealed class SlotHeap
{
    private float[] _keys;
    private int[] _slots;

    public SlotHeap(int capacity = 64)
    {
        _keys = new float[Math.Max(4, capacity)];
        _slots = new int[_keys.Length];
    }

    public int Count { get; private set; }

    /// <summary>The largest key (only valid while <see cref="Count"/> &gt; 0).</summary>
    public float TopKey => _keys[0];

    public int TopSlot => _slots[0];

    public void Clear() => Count = 0;

    public void Push(float key, int slot)
    {
        if (Count == _keys.Length)
        {
            Array.Resize(ref _keys, _keys.Length * 2);
            Array.Resize(ref _slots, _keys.Length);
        }
        var keys = _keys;
        var slots = _slots;
        int i = Count++;
        while (i > 0)
        {
            int parent = (i - 1) >> 1;
            if (keys[parent] >= key) break;
            keys[i] = keys[parent];
            slots[i] = slots[parent];
            i = parent;
        }
        keys[i] = key;
        slots[i] = slot;
    }

    /// <summary>Removes the top pair.</summary>
    public void Pop()
    {
        int n = --Count;
        if (n > 0) SiftDown(_keys[n], _slots[n], n);
    }

    /// <summary>Pops the top and pushes (key, slot) in one sift: how a full result set swaps its worst member.</summary>
    public void ReplaceTop(float key, int slot) => SiftDown(key, slot, Count);

    private void SiftDown(float key, int slot, int n)
    {
        var keys = _keys;
        var slots = _slots;
        int i = 0;
        while (true)
        {
            int child = 2 * i + 1;
            if (child >= n) break;
            if (child + 1 < n && keys[child + 1] > keys[child]) child++;
            if (keys[child] <= key) break;
            keys[i] = keys[child];
            slots[i] = slots[child];
            i = child;
        }
        keys[i] = key;
        slots[i] = slot;
    }
}
