using TorchSharp;
using static TorchSharp.torch;

namespace MoltBot.Inference.Models;

/// <summary>
/// Preallocated key/value cache for <see cref="Slots"/> sequences of up to <see cref="MaxLength"/> tokens.
/// Per layer: keys/values [Slots, KvHeads, MaxLength, HeadDim]. Allocated once; decoding writes in place, so no
/// per-token allocation of cache memory. A slot is rented for one sequence and returned when it finishes.
/// </summary>
public sealed class KvCache : IDisposable
{
    private readonly Tensor[] keys;
    private readonly Tensor[] values;
    private readonly Stack<int> free = new();
    private readonly object gate = new();

    public KvCache(DecoderConfig config, int slots, int maxLength, Device? device = null)
    {
        if (slots <= 0) throw new ArgumentOutOfRangeException(nameof(slots), "at least one slot");
        if (maxLength <= 0 || maxLength > config.MaxPositionEmbeddings)
            throw new ArgumentOutOfRangeException(nameof(maxLength), $"1..{config.MaxPositionEmbeddings}");
        Slots = slots;
        MaxLength = maxLength;
        keys = new Tensor[config.NumHiddenLayers];
        values = new Tensor[config.NumHiddenLayers];
        for (int l = 0; l < keys.Length; l++)
        {
            keys[l] = torch.zeros([slots, config.NumKeyValueHeads, maxLength, config.HeadDim], device: device);
            values[l] = torch.zeros([slots, config.NumKeyValueHeads, maxLength, config.HeadDim], device: device);
        }
        for (int s = slots - 1; s >= 0; s--) free.Push(s);
    }

    /// <summary>Per-layer key/value tensors [Slots, KvHeads, MaxLength, HeadDim] (for the compiled forward).</summary>
    internal Tensor[] Keys => keys;
    internal Tensor[] Values => values;

    public int Slots { get; }
    public int MaxLength { get; }

    public int FreeSlots
    {
        get { lock (gate) return free.Count; }
    }

    /// <summary>A free slot, or -1 when all are in use.</summary>
    public int TryRent()
    {
        lock (gate) return free.Count > 0 ? free.Pop() : -1;
    }

    public void Return(int slot)
    {
        lock (gate)
        {
            if (slot < 0 || slot >= Slots || free.Contains(slot)) throw new ArgumentException($"slot {slot} is not rented");
            free.Push(slot);
        }
    }

    /// <summary>Writes k/v [B, KvHeads, T, HeadDim] of layer <paramref name="layer"/> at each row's start position.</summary>
    internal void Write(int layer, Tensor k, Tensor v, IReadOnlyList<int> slots, IReadOnlyList<int> starts)
    {
        long t = k.shape[2];
        using var scope = NewDisposeScope();
        for (int b = 0; b < slots.Count; b++)
        {
            if (starts[b] + t > MaxLength) throw new InvalidOperationException($"sequence exceeds the KV cache length {MaxLength}");
            keys[layer][slots[b]].narrow(1, starts[b], t).copy_(k[b]);
            values[layer][slots[b]].narrow(1, starts[b], t).copy_(v[b]);
        }
    }

    /// <summary>The first <paramref name="length"/> positions of each row's slot: ([B, KvHeads, L, HeadDim], same).</summary>
    internal (Tensor Keys, Tensor Values) Read(int layer, Tensor slotIndex, long length) =>
        (keys[layer].index_select(0, slotIndex).narrow(2, 0, length),
         values[layer].index_select(0, slotIndex).narrow(2, 0, length));

    public void Dispose()
    {
        foreach (var t in keys) t.Dispose();
        foreach (var t in values) t.Dispose();
    }
}
