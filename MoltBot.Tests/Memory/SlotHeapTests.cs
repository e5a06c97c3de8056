using MoltBot.Memory.Vectors;

namespace MoltBot.Tests.Memory;

public class SlotHeapTests
{
    [Fact]
    public void Pops_in_descending_key_order_and_keeps_each_slot_with_its_key()
    {
        var rng = new Random(1);
        var heap = new SlotHeap(capacity: 4); // grows past its initial size
        var keys = Enumerable.Range(0, 1_000).Select(_ => (float)rng.NextDouble()).ToArray();
        for (int i = 0; i < keys.Length; i++) heap.Push(keys[i], i);

        var popped = new List<(float Key, int Slot)>();
        while (heap.Count > 0)
        {
            popped.Add((heap.TopKey, heap.TopSlot));
            heap.Pop();
        }

        Assert.Equal(keys.OrderByDescending(k => k), popped.Select(p => p.Key));
        Assert.All(popped, p => Assert.Equal(keys[p.Slot], p.Key));
    }

    [Fact]
    public void ReplaceTop_keeps_the_k_smallest_like_a_bounded_result_set()
    {
        var rng = new Random(2);
        var keys = Enumerable.Range(0, 500).Select(_ => (float)rng.NextDouble()).ToArray();
        var heap = new SlotHeap();
        for (int i = 0; i < keys.Length; i++)
        {
            if (heap.Count < 10) heap.Push(keys[i], i);
            else if (keys[i] < heap.TopKey) heap.ReplaceTop(keys[i], i);
        }

        var kept = new List<int>();
        while (heap.Count > 0)
        {
            kept.Add(heap.TopSlot);
            heap.Pop();
        }
        Assert.Equal(Enumerable.Range(0, keys.Length).OrderBy(i => keys[i]).Take(10).Order(), kept.Order());
    }

    [Fact]
    public void Clear_empties_it_for_reuse()
    {
        var heap = new SlotHeap();
        heap.Push(1, 1);
        heap.Push(2, 2);
        heap.Clear();
        Assert.Equal(0, heap.Count);
        heap.Push(0.5f, 7);
        Assert.Equal(7, heap.TopSlot);
    }
}
