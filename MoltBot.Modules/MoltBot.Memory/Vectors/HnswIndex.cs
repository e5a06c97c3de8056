using System.Collections.Concurrent;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics.X86;

namespace MoltBot.Memory.Vectors;

/// <summary>
/// Hierarchical Navigable Small World graph (Malkov &amp; Yashunin, 2016/2018) for cosine similarity over unit
/// vectors. Multi-layer graph with exponentially decaying level assignment (mL = 1/ln M), greedy descent on the
/// upper layers, beam search (ef) on the lower ones, and the paper's heuristic neighbour selection (Algorithm 4).
/// Deletion unlinks the node, repairs its neighbours' links from its own neighbourhood and erases its vector.
/// Thread-safe: many concurrent searches, one writer at a time.
/// </summary>
/// <remarks>
/// Layout for speed: vectors, their codes and the layer-0 links (count, then up to 2·M slots, a fixed stride per node)
/// in flat blocks of <see cref="BlockSlots"/> nodes, upper-layer links (≈ 1/M of the nodes) per node. Blocks are
/// added, never copied or given back: memory follows the node count (within one block) instead of doubling, and a
/// growing index leaves no dead copy on the large-object heap (a doubling array set went 8 → 16 MB at 8,193
/// message vectors, with the 8 MB copy dead until the next full collection). A search rents pooled scratch
/// (visited generation marks, two array heaps, the normalized query), so it allocates only its result array;
/// neighbours are gathered and prefetched before their distances are computed, so cache misses overlap.
/// With <see cref="HnswParameters.QuantizedWalk"/>, queries walk layer 0 on 4-bit codes of the vectors
/// (<see cref="NibbleQuantizer"/>: one 64-byte cache line per 128-d vector, an eighth of the floats; the ranges are
/// relearned each time the index grows by an eighth) and re-rank the ef results they collect with exact float
/// distances; inserts always build the graph on floats. On a large index the walk is bound by memory latency —
/// cache and TLB misses on random vectors — far more than by arithmetic, so bytes per vector set its speed
/// (100,000 × 128 Gaussian: 2.5–3 ms per query on floats or int8 codes, ≈ 1 ms on 4-bit codes, same recall).
/// </remarks>
public sealed class HnswIndex : IDisposable
{
    /// <summary>Levels are capped so a node's level fits the snapshot format (at most 64 levels).</summary>
    private const int LevelCap = 63;

    /// <summary>How many vectors ahead the re-rank asks the CPU to load (each is 8 cache lines at 128 dimensions).</summary>
    private const int RerankPrefetch = 4;

    /// <summary>At most about this many vectors are sorted per dimension to learn the code ranges.</summary>
    private const int CodeTrainingSample = 4096;

    private readonly ReaderWriterLockSlim _lock = new(LockRecursionPolicy.NoRecursion);
    private readonly ConcurrentBag<Scratch> _scratchPool = new();
    private readonly Dictionary<long, int> _slotOf = new();
    private readonly Random _random;
    private readonly double _levelMultiplier;
    private readonly int _m;
    private readonly int _maxLinks0;
    private readonly int _stride0;
    private readonly int _strideUpper;
    private readonly Scratch _writerScratch; // only touched under the write lock
    private readonly NibbleQuantizer? _quantizer; // null: the walk uses the float vectors
    private readonly int _codeBytes;

    /// <summary>Nodes per block (the first block grows to it by doubling, so a small index stays small).</summary>
    internal const int BlockSlots = 1 << BlockShift;
    private const int BlockShift = 10;
    private const int BlockMask = BlockSlots - 1;

    // Block b holds slots [b·BlockSlots, (b+1)·BlockSlots); within it, slot & BlockMask indexes the node.
    private float[][] _vectorBlocks = [];  // [(slot & BlockMask) * Dimension]: the normalized vector
    private byte[][] _codeBlocks = [];     // [_codeBases[b] + (slot & BlockMask) * _codeBytes]: 4-bit codes (pinned)
    private int[] _codeBases = [];         // offset of a block's first code: codes start on a cache-line boundary
    private int[][] _links0Blocks = [];    // [(slot & BlockMask) * _stride0]: count, then the layer-0 neighbour slots
    private int _blockCapacity;            // slots the allocated blocks hold
    private long[] _ids = [];
    private int[]?[] _upper = [];   // per slot, levels 1..top: [(level − 1) * _strideUpper]: count, then neighbours
    private byte[] _levels = [];    // top level of each slot
    private bool[] _removed = [];
    private int _slots;
    private int _entry = -1;
    private int _maxLevel;

    public HnswIndex(int dimension, HnswParameters parameters)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(dimension, 1);
        parameters.Validate();
        Dimension = dimension;
        Parameters = parameters;
        _random = new Random(parameters.Seed);
        _m = parameters.M;
        _levelMultiplier = 1.0 / Math.Log(Math.Max(2, _m));
        _maxLinks0 = _m * 2;
        _stride0 = _maxLinks0 + 1;
        _strideUpper = _m + 1;
        _writerScratch = new Scratch(dimension, _maxLinks0);
        _quantizer = parameters.QuantizedWalk ? new NibbleQuantizer(dimension) : null;
        _codeBytes = _quantizer?.CodeBytes ?? 0;
    }

    public int Dimension { get; }
    public HnswParameters Parameters { get; private set; }

    /// <summary>Live (not deleted) vectors.</summary>
    public int Count
    {
        get
        {
            _lock.EnterReadLock();
            try { return _slotOf.Count; } finally { _lock.ExitReadLock(); }
        }
    }

    /// <summary>Changes the search beam width without rebuilding (it does not affect the graph).</summary>
    public void SetEfSearch(int efSearch) => Parameters = Parameters with { EfSearch = Math.Max(1, efSearch) };

    public bool Contains(long id)
    {
        _lock.EnterReadLock();
        try { return _slotOf.ContainsKey(id); } finally { _lock.ExitReadLock(); }
    }

    /// <summary>The ids of every live vector.</summary>
    public IReadOnlyList<long> Ids()
    {
        _lock.EnterReadLock();
        try { return _slotOf.Keys.ToList(); } finally { _lock.ExitReadLock(); }
    }

    /// <summary>A copy of the stored (normalized) vector, or null if the id is not in the index.</summary>
    public float[]? GetVector(long id)
    {
        _lock.EnterReadLock();
        try { return _slotOf.TryGetValue(id, out int s) ? Vec(s).ToArray() : null; } finally { _lock.ExitReadLock(); }
    }

    /// <summary>Adds a vector (normalized on the way in). An id already present is replaced.</summary>
    public void Add(long id, ReadOnlySpan<float> vector)
    {
        if (vector.Length != Dimension) throw new ArgumentException($"Vector has {vector.Length} dimensions; this index holds {Dimension}.", nameof(vector));
        float[] q = VectorMath.Normalized(vector);
        _lock.EnterWriteLock();
        try
        {
            if (_slotOf.ContainsKey(id)) RemoveLocked(id);
            Insert(id, q);
        }
        finally { _lock.ExitWriteLock(); }
    }

    /// <summary>Deletes a vector: unlinks it, repairs its neighbours, erases its data. Returns false if absent.</summary>
    public bool Remove(long id)
    {
        _lock.EnterWriteLock();
        try { return RemoveLocked(id); } finally { _lock.ExitWriteLock(); }
    }

    /// <summary>The k nearest live vectors by cosine distance, closest first.</summary>
    /// <param name="ef">Beam width (0 = <see cref="HnswParameters.EfSearch"/>); at least k is used.</param>
    /// <param name="filter">Only ids passing it are returned (the graph is still traversed through the others).</param>
    public IReadOnlyList<VectorHit> Search(ReadOnlySpan<float> query, int k, int ef = 0, Func<long, bool>? filter = null)
    {
        if (query.Length != Dimension) throw new ArgumentException($"Query has {query.Length} dimensions; this index holds {Dimension}.", nameof(query));
        if (k <= 0) return [];
        if (!_scratchPool.TryTake(out var scratch)) scratch = new Scratch(Dimension, _maxLinks0);
        try
        {
            VectorMath.NormalizeInto(query, scratch.Query);
            _lock.EnterReadLock();
            try
            {
                if (_entry < 0) return [];
                int ep = _entry;
                float epDist = Distance(scratch.Query, ep);
                for (int level = _maxLevel; level > 0; level--) (ep, epDist) = Greedy(scratch.Query, ep, epDist, level);
                int beam = Math.Max(k, ef > 0 ? ef : Parameters.EfSearch);
                if (_quantizer is not null)
                {
                    (scratch.QueryScale, scratch.QueryOffset) = _quantizer.PrepareQuery(scratch.Query, scratch.QueryWeights);
                    epDist = QuantizedDistance(scratch, ep);
                }
                SearchLayer(scratch, ep, epDist, beam, 0, filter, quantized: _quantizer is not null);
                int found = scratch.DrainSorted();
                var slots = scratch.SortedSlots.AsSpan(0, found);
                var distances = scratch.SortedDistances.AsSpan(0, found);
                if (_quantizer is not null)
                {
                    // Re-rank what the quantized walk found with exact distances (vectors fetched a few ahead).
                    for (int i = 0; i < Math.Min(found, RerankPrefetch); i++) Prefetch(slots[i], quantized: false);
                    for (int i = 0; i < found; i++)
                    {
                        if (i + RerankPrefetch < found) Prefetch(slots[i + RerankPrefetch], quantized: false);
                        distances[i] = Distance(scratch.Query, slots[i]);
                    }
                    distances.Sort(slots);
                }
                var hits = new VectorHit[Math.Min(k, found)];
                for (int i = 0; i < hits.Length; i++) hits[i] = new VectorHit(_ids[slots[i]], distances[i]);
                return hits;
            }
            finally { _lock.ExitReadLock(); }
        }
        finally { _scratchPool.Add(scratch); }
    }

    private void Insert(long id, float[] q)
    {
        int level = Math.Min(LevelCap, (int)(-Math.Log(1.0 - _random.NextDouble()) * _levelMultiplier));
        int slot = NewSlot(id, q, level);
        _slotOf[id] = slot;
        // The walk's code ranges are relearned each time the index grows by an eighth (amortized O(1) per insert),
        // so vectors encoded with ranges learned before they arrived stay a small share even if the data drifts.
        if (_quantizer is not null && 8L * _slotOf.Count >= 9L * _quantizer.TrainedOn) RetrainCodes();

        if (_entry < 0)
        {
            _entry = slot;
            _maxLevel = level;
            return;
        }

        var scratch = _writerScratch;
        q.CopyTo(scratch.Query);
        int ep = _entry;
        float epDist = Distance(scratch.Query, ep);
        for (int l = _maxLevel; l > level; l--) (ep, epDist) = Greedy(scratch.Query, ep, epDist, l);
        for (int l = Math.Min(level, _maxLevel); l >= 0; l--)
        {
            SearchLayer(scratch, ep, epDist, Parameters.EfConstruction, l, null, quantized: false);
            int found = scratch.DrainSorted();
            if (found == 0) continue;
            // The new node picks M neighbours on every layer (as in the paper and hnswlib); layer 0 holds up to
            // 2·M so that the back-links it receives later have room without pruning.
            int kept = SelectNeighbours(scratch.SortedSlots.AsSpan(0, found), scratch.SortedDistances.AsSpan(0, found), _m, slot, scratch.Kept);
            var links = Links(slot, l);
            scratch.Kept.AsSpan(0, kept).CopyTo(links[1..]);
            links[0] = kept;
            for (int i = 0; i < kept; i++) Connect(scratch.Kept[i], slot, l);
            (ep, epDist) = (scratch.SortedSlots[0], scratch.SortedDistances[0]);
        }
        if (level > _maxLevel)
        {
            _maxLevel = level;
            _entry = slot;
        }
    }

    private bool RemoveLocked(long id)
    {
        if (!_slotOf.Remove(id, out int slot)) return false;
        _removed[slot] = true;
        int top = _levels[slot];
        var pool = new HashSet<int>();
        for (int l = 0; l <= top; l++)
        {
            var own = Links(slot, l);
            var ownLinks = own.Slice(1, own[0]).ToArray();
            foreach (int n in ownLinks)
            {
                if (_removed[n]) continue;
                // Repair: n loses its link to the deleted node and picks new neighbours among its remaining
                // links and the deleted node's neighbourhood, so the graph stays navigable around the hole.
                pool.Clear();
                var theirs = Links(n, l);
                for (int i = 1; i <= theirs[0]; i++)
                {
                    int x = theirs[i];
                    if (x != slot && !_removed[x]) pool.Add(x);
                }
                foreach (int x in ownLinks) if (x != n && !_removed[x]) pool.Add(x);
                var slots = pool.ToArray();
                var distances = new float[slots.Length];
                for (int i = 0; i < slots.Length; i++) distances[i] = DistanceBetween(n, slots[i]);
                distances.AsSpan().Sort(slots.AsSpan());
                var kept = new int[MaxLinks(l)];
                int count = SelectNeighbours(slots, distances, kept.Length, n, kept);
                kept.AsSpan(0, count).CopyTo(theirs[1..]);
                theirs[0] = count;
            }
        }
        Links(slot, 0)[0] = 0;
        _upper[slot] = null;
        _levels[slot] = 0;
        VecMutable(slot).Clear();
        if (_quantizer is not null) Code(slot).Clear();
        _ids[slot] = long.MinValue;
        if (_entry == slot) ChooseNewEntry();
        return true;
    }

    private void ChooseNewEntry()
    {
        _entry = -1;
        _maxLevel = 0;
        for (int s = 0; s < _slots; s++)
        {
            if (_removed[s]) continue;
            if (_entry < 0 || _levels[s] > _maxLevel)
            {
                _entry = s;
                _maxLevel = _levels[s];
            }
        }
    }

    /// <summary>Adds a back-link from n to slot; when n is full, its links are re-selected with the heuristic.</summary>
    private void Connect(int n, int slot, int level)
    {
        var links = Links(n, level);
        int count = links[0];
        int max = MaxLinks(level);
        if (count < max)
        {
            links[count + 1] = slot;
            links[0] = count + 1;
            return;
        }
        var s = _writerScratch;
        int c = 0;
        s.PruneSlots[c] = slot;
        s.PruneDistances[c++] = DistanceBetween(n, slot);
        for (int i = 1; i <= count; i++)
        {
            int x = links[i];
            if (_removed[x]) continue;
            s.PruneSlots[c] = x;
            s.PruneDistances[c++] = DistanceBetween(n, x);
        }
        s.PruneDistances.AsSpan(0, c).Sort(s.PruneSlots.AsSpan(0, c));
        int kept = SelectNeighbours(s.PruneSlots.AsSpan(0, c), s.PruneDistances.AsSpan(0, c), max, n, s.PruneKept);
        s.PruneKept.AsSpan(0, kept).CopyTo(links[1..]);
        links[0] = kept;
    }

    /// <summary>
    /// Heuristic selection (Algorithm 4): a candidate is kept only if it is closer to the base than to every
    /// neighbour already kept, which spreads links in different directions instead of clustering them. Pruned
    /// candidates are not used to fill the remaining places (hnswlib's choice): fewer, more diverse links cost fewer
    /// distances per hop, and recall on 20,000 Gaussian vectors (M=16, ef=128) stayed at 0.70 without them.
    /// </summary>
    /// <returns>How many slots were written to <paramref name="kept"/>.</returns>
    private int SelectNeighbours(ReadOnlySpan<int> sortedSlots, ReadOnlySpan<float> sortedDistances, int max, int exclude, Span<int> kept)
    {
        int count = 0;
        for (int i = 0; i < sortedSlots.Length && count < max; i++)
        {
            int candidate = sortedSlots[i];
            if (candidate == exclude || _removed[candidate]) continue;
            float distance = sortedDistances[i];
            bool good = true;
            for (int j = 0; j < count; j++)
            {
                if (DistanceBetween(candidate, kept[j]) < distance)
                {
                    good = false;
                    break;
                }
            }
            if (good) kept[count++] = candidate;
        }
        return count;
    }

    private (int, float) Greedy(float[] q, int ep, float epDist, int level)
    {
        bool changed = true;
        while (changed)
        {
            changed = false;
            if (level > _levels[ep]) break;
            var links = Links(ep, level);
            for (int i = 1; i <= links[0]; i++)
            {
                int e = links[i];
                if (_removed[e]) continue;
                float d = Distance(q, e);
                if (d < epDist)
                {
                    ep = e;
                    epDist = d;
                    changed = true;
                }
            }
        }
        return (ep, epDist);
    }

    /// <summary>
    /// Beam search on one layer (Algorithm 2): leaves up to ef results in <see cref="Scratch.Results"/> (worst on
    /// top). Stops when the closest unexpanded candidate is farther than the worst of ef results.
    /// <paramref name="quantized"/>: distances from the int8 codes (query codes in the scratch) instead of floats.
    /// </summary>
    private void SearchLayer(Scratch s, int ep, float epDist, int ef, int level, Func<long, bool>? filter, bool quantized)
    {
        s.NewGeneration(_slots);
        var q = s.Query;
        var marks = s.Marks;
        ushort generation = s.Generation;
        var candidates = s.Candidates; // max-heap over negated distances: closest on top
        var results = s.Results;       // max-heap: worst on top
        var fresh = s.Fresh;
        var removed = _removed;
        candidates.Clear();
        results.Clear();

        marks[ep] = generation;
        candidates.Push(-epDist, ep);
        if (filter is null || filter(_ids[ep])) results.Push(epDist, ep);
        float bound = results.Count > 0 ? epDist : float.MaxValue;

        while (candidates.Count > 0)
        {
            float cd = -candidates.TopKey;
            if (cd > bound && results.Count >= ef) break;
            int c = candidates.TopSlot;
            candidates.Pop();
            // The next candidate is usually the one expanded next: start loading its link block now.
            if (candidates.Count > 0) PrefetchLinks(candidates.TopSlot, level);

            // Gather the unvisited neighbours first and prefetch their vectors, then compute distances: the
            // memory loads of one hop overlap instead of each dot product waiting for its own cache miss.
            var links = Links(c, level);
            int count = links[0], nFresh = 0;
            for (int i = 1; i <= count; i++)
            {
                int e = links[i];
                if (marks[e] == generation) continue;
                marks[e] = generation;
                if (removed[e]) continue;
                fresh[nFresh++] = e;
                Prefetch(e, quantized);
            }
            for (int i = 0; i < nFresh; i++)
            {
                int e = fresh[i];
                float d = quantized ? QuantizedDistance(s, e) : Distance(q, e);
                if (results.Count < ef || d < bound)
                {
                    candidates.Push(-d, e);
                    if (filter is null || filter(_ids[e]))
                    {
                        if (results.Count < ef) results.Push(d, e);
                        else results.ReplaceTop(d, e);
                        bound = results.TopKey;
                    }
                }
            }
        }
    }

    private int MaxLinks(int level) => level == 0 ? _maxLinks0 : _m;

    /// <summary>The link block of a node on a level: [0] is the count, then the neighbour slots.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private Span<int> Links(int slot, int level) => level == 0
        ? _links0Blocks[slot >> BlockShift].AsSpan((slot & BlockMask) * _stride0, _stride0)
        : _upper[slot].AsSpan((level - 1) * _strideUpper, _strideUpper);

    private int NewSlot(long id, float[] q, int level)
    {
        if (_slots == _ids.Length)
        {
            // Per-node bookkeeping (18 bytes a node) still doubles; the vectors, codes and links go by blocks.
            int capacity = Math.Max(16, _ids.Length * 2);
            Array.Resize(ref _ids, capacity);
            Array.Resize(ref _upper, capacity);
            Array.Resize(ref _levels, capacity);
            Array.Resize(ref _removed, capacity);
        }
        if (_slots == _blockCapacity) AddBlockRoom();
        int slot = _slots++;
        _ids[slot] = id;
        _removed[slot] = false;
        _levels[slot] = (byte)level;
        Links(slot, 0)[0] = 0;
        _upper[slot] = level > 0 ? new int[level * _strideUpper] : null;
        q.CopyTo(VecMutable(slot));
        _quantizer?.Encode(q, Code(slot));
        return slot;
    }

    /// <summary>
    /// Room for more nodes: the first block doubles (16, 32, … <see cref="BlockSlots"/> nodes), after that one new
    /// full block is added; existing blocks never move.
    /// </summary>
    private void AddBlockRoom()
    {
        int block = _blockCapacity >> BlockShift;
        int slots;
        if (_blockCapacity < BlockSlots)
        {
            block = 0;
            slots = Math.Min(BlockSlots, Math.Max(16, _blockCapacity * 2));
        }
        else
        {
            slots = BlockSlots;
            if (block == _vectorBlocks.Length)
            {
                int blocks = Math.Max(4, block * 2);
                Array.Resize(ref _vectorBlocks, blocks);
                Array.Resize(ref _links0Blocks, blocks);
                Array.Resize(ref _codeBlocks, blocks);
                Array.Resize(ref _codeBases, blocks);
            }
        }
        if (_vectorBlocks.Length == 0)
        {
            _vectorBlocks = new float[4][];
            _links0Blocks = new int[4][];
            _codeBlocks = new byte[4][];
            _codeBases = new int[4];
        }
        int kept = block == 0 ? _blockCapacity : 0; // only the first block is ever re-sized
        var vectors = new float[slots * Dimension];
        var links = new int[slots * _stride0];
        if (kept > 0)
        {
            _vectorBlocks[0].AsSpan(0, kept * Dimension).CopyTo(vectors);
            _links0Blocks[0].AsSpan(0, kept * _stride0).CopyTo(links);
        }
        _vectorBlocks[block] = vectors;
        _links0Blocks[block] = links;
        if (_quantizer is not null) NewCodeBlock(block, slots, kept);
        _blockCapacity = block * BlockSlots + slots;
    }

    /// <summary>
    /// A code block, pinned (it never moves, so the cache-line alignment of the codes holds and prefetch addresses
    /// stay valid) with room to start the first code on a 64-byte boundary.
    /// </summary>
    private unsafe void NewCodeBlock(int block, int slots, int kept)
    {
        var codes = GC.AllocateArray<byte>(slots * _codeBytes + 64, pinned: true);
        int codeBase = (int)((64 - ((nuint)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(codes)) & 63)) & 63);
        if (kept > 0) _codeBlocks[block].AsSpan(_codeBases[block], kept * _codeBytes).CopyTo(codes.AsSpan(codeBase));
        _codeBlocks[block] = codes;
        _codeBases[block] = codeBase;
    }

    private void RetrainCodes()
    {
        if (_quantizer is null) return;
        int live = _slotOf.Count, stride = Math.Max(1, live / CodeTrainingSample), seen = 0;
        var sample = new List<ReadOnlyMemory<float>>(Math.Min(live, CodeTrainingSample + 1));
        for (int s = 0; s < _slots; s++)
        {
            if (_removed[s]) continue;
            if (seen++ % stride == 0) sample.Add(new ReadOnlyMemory<float>(_vectorBlocks[s >> BlockShift], (s & BlockMask) * Dimension, Dimension));
        }
        _quantizer.Train(sample, live);
        for (int s = 0; s < _slots; s++)
        {
            if (!_removed[s]) _quantizer.Encode(Vec(s), Code(s));
        }
    }

    private ReadOnlySpan<float> Vec(int slot) => VecMutable(slot);

    private Span<float> VecMutable(int slot) => _vectorBlocks[slot >> BlockShift].AsSpan((slot & BlockMask) * Dimension, Dimension);

    private Span<byte> Code(int slot)
    {
        int block = slot >> BlockShift;
        return _codeBlocks[block].AsSpan(_codeBases[block] + (slot & BlockMask) * _codeBytes, _codeBytes);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private ref float VecRef(int slot) =>
        ref Unsafe.Add(ref MemoryMarshal.GetArrayDataReference(_vectorBlocks[slot >> BlockShift]), (slot & BlockMask) * Dimension);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private ref byte CodeRef(int slot)
    {
        int block = slot >> BlockShift;
        return ref Unsafe.Add(ref MemoryMarshal.GetArrayDataReference(_codeBlocks[block]), _codeBases[block] + (slot & BlockMask) * _codeBytes);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private float Distance(float[] q, int slot) =>
        1f - VectorMath.DotUnchecked(ref MemoryMarshal.GetArrayDataReference(q), ref VecRef(slot), Dimension);

    /// <summary>Approximate cosine distance from the prepared query (int8 weights in the scratch) and a stored 4-bit code.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private float QuantizedDistance(Scratch s, int slot) =>
        1f - s.QueryOffset - s.QueryScale * NibbleQuantizer.Dot(ref MemoryMarshal.GetArrayDataReference(s.QueryWeights), ref CodeRef(slot), _codeBytes);

    private float DistanceBetween(int a, int b) =>
        1f - VectorMath.DotUnchecked(ref VecRef(a), ref VecRef(b), Dimension);

    /// <summary>Asks the CPU to start loading a stored vector into cache (a hint: it never faults).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private unsafe void Prefetch(int slot, bool quantized)
    {
        if (!Sse.IsSupported) return;
        // The blocks live on the large-object heap (or are small); a moved array only makes the hint useless.
        byte* p = quantized
            ? (byte*)Unsafe.AsPointer(ref CodeRef(slot))
            : (byte*)Unsafe.AsPointer(ref VecRef(slot));
        int bytes = quantized ? _codeBytes : Dimension * sizeof(float);
        for (int offset = 0; offset < bytes; offset += 64) Sse.Prefetch0(p + offset);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private unsafe void PrefetchLinks(int slot, int level)
    {
        if (!Sse.IsSupported || level != 0) return;
        byte* p = (byte*)Unsafe.AsPointer(ref Unsafe.Add(ref MemoryMarshal.GetArrayDataReference(_links0Blocks[slot >> BlockShift]), (slot & BlockMask) * _stride0));
        for (int offset = 0; offset < _stride0 * sizeof(int); offset += 64) Sse.Prefetch0(p + offset);
    }

    public void Dispose() => _lock.Dispose();

    /// <summary>The top level a live id was assigned (tests check the level distribution), or -1 if absent.</summary>
    internal int LevelOf(long id)
    {
        _lock.EnterReadLock();
        try { return _slotOf.TryGetValue(id, out int s) ? _levels[s] : -1; } finally { _lock.ExitReadLock(); }
    }

    /// <summary>
    /// Graph invariants, for tests: every live node's link lists stay within capacity, hold no self-link and no
    /// duplicate, and only point to nodes that exist on that level; the entry point is a live node on the top level.
    /// Returns the violations found (empty when the graph is sound).
    /// </summary>
    internal List<string> CheckInvariants()
    {
        _lock.EnterReadLock();
        try
        {
            var problems = new List<string>();
            if (_slotOf.Count > 0 && (_entry < 0 || _removed[_entry] || _levels[_entry] != _maxLevel)) problems.Add($"entry {_entry} is not a live node on the top level {_maxLevel}");
            var seen = new HashSet<int>();
            for (int s = 0; s < _slots; s++)
            {
                if (_removed[s]) continue;
                for (int l = 0; l <= _levels[s]; l++)
                {
                    var links = Links(s, l);
                    if (links[0] > MaxLinks(l)) problems.Add($"node {s} has {links[0]} links on level {l} (max {MaxLinks(l)})");
                    seen.Clear();
                    for (int i = 1; i <= links[0]; i++)
                    {
                        int t = links[i];
                        if (t == s) problems.Add($"node {s} links to itself on level {l}");
                        else if (!seen.Add(t)) problems.Add($"node {s} links twice to {t} on level {l}");
                        else if (!_removed[t] && _levels[t] < l) problems.Add($"node {s} links to {t} on level {l} above its top level {_levels[t]}");
                    }
                }
            }
            return problems;
        }
        finally { _lock.ExitReadLock(); }
    }

    // ---- persistence -------------------------------------------------------------------------------------

    /// <summary>Writes the live graph (deleted nodes and links to them are left out) to a snapshot.</summary>
    /// <param name="mark">Caller's replay mark stored with the snapshot (e.g. the highest source id it contains).</param>
    public void Save(Stream stream, long mark)
    {
        _lock.EnterReadLock();
        try { HnswSnapshot.Write(stream, mark, Dimension, Parameters, LiveView(), _quantizer?.Save()); } finally { _lock.ExitReadLock(); }
    }

    /// <summary>Reads a snapshot written by <see cref="Save"/>; throws <see cref="InvalidDataException"/> if it is damaged.</summary>
    /// <param name="efSearch">Search beam width (0 = the one saved).</param>
    /// <param name="quantizedWalk">Whether queries walk on 4-bit codes (null = as saved; the graph is the same either way).</param>
    public static (HnswIndex Index, long Mark) Load(Stream stream, int efSearch, bool? quantizedWalk = null)
    {
        var snapshot = HnswSnapshot.Read(stream);
        var parameters = snapshot.Parameters with
        {
            EfSearch = efSearch > 0 ? efSearch : snapshot.Parameters.EfSearch,
            QuantizedWalk = quantizedWalk ?? snapshot.Parameters.QuantizedWalk,
        };
        var index = new HnswIndex(snapshot.Dimension, parameters);
        index.Restore(snapshot);
        return (index, snapshot.Mark);
    }

    private HnswSnapshot.Graph LiveView()
    {
        var newSlot = new int[_slots];
        int live = 0;
        for (int s = 0; s < _slots; s++) newSlot[s] = _removed[s] ? -1 : live++;
        var nodes = new List<HnswSnapshot.Node>(live);
        for (int s = 0; s < _slots; s++)
        {
            if (_removed[s]) continue;
            var levels = new int[_levels[s] + 1][];
            for (int l = 0; l < levels.Length; l++)
            {
                var links = Links(s, l);
                var kept = new List<int>(links[0]);
                for (int i = 1; i <= links[0]; i++) if (!_removed[links[i]]) kept.Add(newSlot[links[i]]);
                levels[l] = kept.ToArray();
            }
            nodes.Add(new HnswSnapshot.Node(_ids[s], Vec(s).ToArray(), levels));
        }
        return new HnswSnapshot.Graph(nodes, _entry < 0 ? -1 : newSlot[_entry], _maxLevel);
    }

    private void Restore(HnswSnapshot.Contents snapshot)
    {
        foreach (var node in snapshot.Graph.Nodes)
        {
            int top = node.Links.Length - 1;
            if (top > LevelCap) throw new InvalidDataException($"HNSW snapshot node {node.Id} has {node.Links.Length} levels.");
            int slot = NewSlot(node.Id, node.Vector, top);
            for (int l = 0; l <= top; l++)
            {
                var links = Links(slot, l);
                int n = Math.Min(node.Links[l].Length, links.Length - 1);
                node.Links[l].AsSpan(0, n).CopyTo(links[1..]);
                links[0] = n;
            }
            _slotOf[node.Id] = slot;
        }
        for (int s = 0; s < _slots; s++)
        {
            for (int l = 0; l <= _levels[s]; l++)
            {
                var links = Links(s, l);
                for (int i = 1; i <= links[0]; i++)
                {
                    int target = links[i];
                    if ((uint)target >= (uint)_slots) throw new InvalidDataException($"HNSW snapshot links to node {target} of {_slots}.");
                    if (_levels[target] < l) throw new InvalidDataException($"HNSW snapshot links node {s} to node {target} on level {l}, above that node's top level.");
                }
            }
        }
        // Codes are not persisted: they are re-encoded from the vectors, with the saved statistics when the snapshot
        // has them (so the reloaded index walks exactly as the saved one did), else with freshly learned ones.
        if (_quantizer is not null && snapshot.Codes is { } statistics)
        {
            _quantizer.Load(statistics);
            for (int s = 0; s < _slots; s++) _quantizer.Encode(Vec(s), Code(s));
        }
        else
        {
            RetrainCodes();
        }
        _entry = snapshot.Graph.Entry;
        _maxLevel = snapshot.Graph.MaxLevel;
        if (_slots > 0 && ((uint)_entry >= (uint)_slots || _levels[_entry] != _maxLevel)) ChooseNewEntry();
        if (_slots == 0) (_entry, _maxLevel) = (-1, 0);
    }

    /// <summary>
    /// Per-search scratch space, pooled: generation-stamped visited marks (O(1) reset), the two heaps, the
    /// normalized query, and (for the single writer) the buffers of neighbour selection.
    /// </summary>
    private sealed class Scratch(int dimension, int maxLinks0)
    {
        public float[] Query { get; } = new float[dimension];
        public sbyte[] QueryWeights { get; } = new sbyte[2 * NibbleQuantizer.CodeBytesFor(dimension)];
        public float QueryScale { get; set; }
        public float QueryOffset { get; set; }
        public ushort[] Marks { get; private set; } = [];
        public ushort Generation { get; private set; }
        public SlotHeap Candidates { get; } = new();
        public SlotHeap Results { get; } = new();
        public int[] Fresh { get; } = new int[maxLinks0];

        public int[] SortedSlots { get; private set; } = [];
        public float[] SortedDistances { get; private set; } = [];
        public int[] Kept { get; } = new int[maxLinks0];
        public int[] PruneSlots { get; } = new int[maxLinks0 + 1];
        public float[] PruneDistances { get; } = new float[maxLinks0 + 1];
        public int[] PruneKept { get; } = new int[maxLinks0 + 1];

        public void NewGeneration(int slots)
        {
            if (Marks.Length < slots) Marks = new ushort[Math.Max(slots, Marks.Length * 2)];
            if (++Generation == ushort.MaxValue)
            {
                Array.Clear(Marks);
                Generation = 1;
            }
        }

        /// <summary>Empties <see cref="Results"/> into the sorted buffers, closest first; returns how many.</summary>
        public int DrainSorted()
        {
            int n = Results.Count;
            if (SortedSlots.Length < n)
            {
                SortedSlots = new int[n];
                SortedDistances = new float[n];
            }
            for (int i = n - 1; i >= 0; i--)
            {
                SortedSlots[i] = Results.TopSlot;
                SortedDistances[i] = Results.TopKey;
                Results.Pop();
            }
            return n;
        }
    }
}
