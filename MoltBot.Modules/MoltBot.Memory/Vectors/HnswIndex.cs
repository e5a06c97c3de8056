using System.Collections.Concurrent;

namespace MoltBot.Memory.Vectors;

/// <summary>
/// Hierarchical Navigable Small World graph (Malkov &amp; Yashunin, 2016/2018) for cosine similarity over unit
/// vectors. Multi-layer graph with exponentially decaying level assignment (mL = 1/ln M), greedy descent on the
/// upper layers, beam search (ef) on the lower ones, and the paper's heuristic neighbour selection (Algorithm 4,
/// with kept pruned connections). Deletion unlinks the node, repairs its neighbours' links from its own
/// neighbourhood and erases its vector. Thread-safe: many concurrent searches, one writer at a time.
/// </summary>
public sealed class HnswIndex : IDisposable
{
    private readonly ReaderWriterLockSlim _lock = new(LockRecursionPolicy.NoRecursion);
    private readonly ConcurrentBag<VisitedSet> _visitedPool = new();
    private readonly Dictionary<long, int> _slotOf = new();
    private readonly Random _random;
    private readonly double _levelMultiplier;
    private readonly int _maxLinks0;

    private float[] _vectors = [];
    private long[] _ids = [];
    private int[][][] _links = []; // [slot][level] → [count, n1, n2, ...]
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
        _levelMultiplier = 1.0 / Math.Log(Math.Max(2, parameters.M));
        _maxLinks0 = parameters.M * 2;
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
        float[] q = VectorMath.Normalized(query);
        _lock.EnterReadLock();
        try
        {
            if (_entry < 0) return [];
            int ep = _entry;
            float epDist = Distance(q, ep);
            for (int level = _maxLevel; level > 0; level--) (ep, epDist) = Greedy(q, ep, epDist, level);
            int beam = Math.Max(k, ef > 0 ? ef : Parameters.EfSearch);
            var found = SearchLayer(q, ep, epDist, beam, 0, filter);
            var hits = new List<VectorHit>(Math.Min(k, found.Count));
            for (int i = 0; i < found.Count && hits.Count < k; i++) hits.Add(new VectorHit(_ids[found[i].Slot], found[i].Distance));
            return hits;
        }
        finally { _lock.ExitReadLock(); }
    }

    private void Insert(long id, float[] q)
    {
        int slot = NewSlot(id, q);
        int level = (int)(-Math.Log(1.0 - _random.NextDouble()) * _levelMultiplier);
        _links[slot] = new int[level + 1][];
        for (int l = 0; l <= level; l++) _links[slot][l] = new int[MaxLinks(l) + 1];
        _slotOf[id] = slot;

        if (_entry < 0)
        {
            _entry = slot;
            _maxLevel = level;
            return;
        }

        int ep = _entry;
        float epDist = Distance(q, ep);
        for (int l = _maxLevel; l > level; l--) (ep, epDist) = Greedy(q, ep, epDist, l);
        for (int l = Math.Min(level, _maxLevel); l >= 0; l--)
        {
            var candidates = SearchLayer(q, ep, epDist, Parameters.EfConstruction, l, null);
            var neighbours = SelectNeighbours(candidates, Parameters.M, exclude: slot);
            SetLinks(slot, l, neighbours);
            foreach (int n in neighbours) Connect(n, slot, l);
            if (candidates.Count > 0) (ep, epDist) = (candidates[0].Slot, candidates[0].Distance);
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
        var levels = _links[slot];
        for (int l = 0; l < levels.Length; l++)
        {
            var own = Neighbours(slot, l).ToArray();
            foreach (int n in own)
            {
                if (_removed[n]) continue;
                // Repair: n loses its link to the deleted node and picks new neighbours among its remaining
                // links and the deleted node's neighbourhood, so the graph stays navigable around the hole.
                var pool = new HashSet<int>();
                foreach (int x in Neighbours(n, l)) if (x != slot && !_removed[x]) pool.Add(x);
                foreach (int x in own) if (x != n && !_removed[x]) pool.Add(x);
                var ranked = pool.Select(x => new Candidate(x, DistanceBetween(n, x))).OrderBy(c => c.Distance).ToList();
                SetLinks(n, l, SelectNeighbours(ranked, MaxLinks(l), exclude: n));
            }
        }
        _links[slot] = [];
        Array.Clear(_vectors, slot * Dimension, Dimension);
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
            int level = _links[s].Length - 1;
            if (_entry < 0 || level > _maxLevel)
            {
                _entry = s;
                _maxLevel = level;
            }
        }
    }

    /// <summary>Adds a back-link from n to slot; when n is full, its links are re-selected with the heuristic.</summary>
    private void Connect(int n, int slot, int level)
    {
        var list = _links[n][level];
        int count = list[0];
        int max = MaxLinks(level);
        if (count < max)
        {
            list[count + 1] = slot;
            list[0] = count + 1;
            return;
        }
        var ranked = new List<Candidate>(count + 1) { new(slot, DistanceBetween(n, slot)) };
        for (int i = 1; i <= count; i++)
        {
            int x = list[i];
            if (!_removed[x]) ranked.Add(new Candidate(x, DistanceBetween(n, x)));
        }
        ranked.Sort((a, b) => a.Distance.CompareTo(b.Distance));
        SetLinks(n, level, SelectNeighbours(ranked, max, exclude: n));
    }

    /// <summary>
    /// Heuristic selection (Algorithm 4): a candidate is kept only if it is closer to the base than to every
    /// neighbour already kept, which spreads links in different directions; pruned ones fill any free places.
    /// </summary>
    private List<int> SelectNeighbours(List<Candidate> sortedCandidates, int max, int exclude)
    {
        var kept = new List<int>(max);
        var pruned = new List<int>();
        foreach (var c in sortedCandidates)
        {
            if (c.Slot == exclude || _removed[c.Slot]) continue;
            if (kept.Count >= max) break;
            bool good = true;
            foreach (int r in kept)
            {
                if (DistanceBetween(c.Slot, r) < c.Distance)
                {
                    good = false;
                    break;
                }
            }
            if (good) kept.Add(c.Slot); else pruned.Add(c.Slot);
        }
        for (int i = 0; i < pruned.Count && kept.Count < max; i++) kept.Add(pruned[i]);
        return kept;
    }

    private (int, float) Greedy(float[] q, int ep, float epDist, int level)
    {
        bool changed = true;
        while (changed)
        {
            changed = false;
            var list = _links[ep];
            if (level >= list.Length) break;
            var links = list[level];
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

    /// <summary>Beam search on one layer (Algorithm 2). Returns up to ef results, closest first.</summary>
    private List<Candidate> SearchLayer(float[] q, int ep, float epDist, int ef, int level, Func<long, bool>? filter)
    {
        var visited = RentVisited();
        try
        {
            var candidates = visited.Candidates;
            var results = visited.Results; // max-heap through negated distances
            visited.Mark(ep);
            candidates.Enqueue(ep, epDist);
            if (filter is null || filter(_ids[ep])) results.Enqueue(ep, -epDist);
            float bound = results.Count > 0 ? epDist : float.MaxValue;

            while (candidates.TryDequeue(out int c, out float cd))
            {
                if (cd > bound && results.Count >= ef) break;
                var list = _links[c];
                if (level >= list.Length) continue;
                var links = list[level];
                for (int i = 1; i <= links[0]; i++)
                {
                    int e = links[i];
                    if (_removed[e] || !visited.Mark(e)) continue;
                    float d = Distance(q, e);
                    if (results.Count < ef || d < bound)
                    {
                        candidates.Enqueue(e, d);
                        if (filter is null || filter(_ids[e]))
                        {
                            results.Enqueue(e, -d);
                            if (results.Count > ef) results.Dequeue();
                        }
                        bound = results.TryPeek(out _, out float worst) ? -worst : float.MaxValue;
                    }
                }
            }

            var list2 = new List<Candidate>(results.Count);
            while (results.TryDequeue(out int s, out float negative)) list2.Add(new Candidate(s, -negative));
            list2.Reverse();
            return list2;
        }
        finally { ReturnVisited(visited); }
    }

    private int MaxLinks(int level) => level == 0 ? _maxLinks0 : Parameters.M;

    private IEnumerable<int> Neighbours(int slot, int level)
    {
        var list = _links[slot];
        if (level >= list.Length) yield break;
        var links = list[level];
        for (int i = 1; i <= links[0]; i++) yield return links[i];
    }

    private void SetLinks(int slot, int level, List<int> neighbours)
    {
        var links = _links[slot][level];
        int n = Math.Min(neighbours.Count, links.Length - 1);
        for (int i = 0; i < n; i++) links[i + 1] = neighbours[i];
        links[0] = n;
    }

    private int NewSlot(long id, float[] q)
    {
        if (_slots == _ids.Length)
        {
            int capacity = Math.Max(16, _ids.Length * 2);
            Array.Resize(ref _ids, capacity);
            Array.Resize(ref _links, capacity);
            Array.Resize(ref _removed, capacity);
            Array.Resize(ref _vectors, capacity * Dimension);
        }
        int slot = _slots++;
        _ids[slot] = id;
        _removed[slot] = false;
        q.CopyTo(_vectors, slot * Dimension);
        return slot;
    }

    private ReadOnlySpan<float> Vec(int slot) => new(_vectors, slot * Dimension, Dimension);

    private float Distance(float[] q, int slot) => 1f - VectorMath.Dot(q, Vec(slot));

    private float DistanceBetween(int a, int b) => 1f - VectorMath.Dot(Vec(a), Vec(b));

    private VisitedSet RentVisited()
    {
        if (!_visitedPool.TryTake(out var v)) v = new VisitedSet();
        v.Reset(_slots);
        return v;
    }

    private void ReturnVisited(VisitedSet v) => _visitedPool.Add(v);

    public void Dispose() => _lock.Dispose();

    // ---- persistence -------------------------------------------------------------------------------------

    /// <summary>Writes the live graph (deleted nodes and links to them are left out) to a snapshot.</summary>
    /// <param name="mark">Caller's replay mark stored with the snapshot (e.g. the highest source id it contains).</param>
    public void Save(Stream stream, long mark)
    {
        _lock.EnterReadLock();
        try { HnswSnapshot.Write(stream, mark, Dimension, Parameters, LiveView()); } finally { _lock.ExitReadLock(); }
    }

    /// <summary>Reads a snapshot written by <see cref="Save"/>; throws <see cref="InvalidDataException"/> if it is damaged.</summary>
    public static (HnswIndex Index, long Mark) Load(Stream stream, int efSearch)
    {
        var snapshot = HnswSnapshot.Read(stream);
        var index = new HnswIndex(snapshot.Dimension, snapshot.Parameters with { EfSearch = efSearch > 0 ? efSearch : snapshot.Parameters.EfSearch });
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
            var levels = new int[_links[s].Length][];
            for (int l = 0; l < levels.Length; l++)
            {
                levels[l] = Neighbours(s, l).Where(n => !_removed[n]).Select(n => newSlot[n]).ToArray();
            }
            nodes.Add(new HnswSnapshot.Node(_ids[s], Vec(s).ToArray(), levels));
        }
        return new HnswSnapshot.Graph(nodes, _entry < 0 ? -1 : newSlot[_entry], _maxLevel);
    }

    private void Restore(HnswSnapshot.Contents snapshot)
    {
        foreach (var node in snapshot.Graph.Nodes)
        {
            int slot = NewSlot(node.Id, node.Vector);
            _links[slot] = new int[node.Links.Length][];
            for (int l = 0; l < node.Links.Length; l++)
            {
                var links = new int[MaxLinks(l) + 1];
                int n = Math.Min(node.Links[l].Length, links.Length - 1);
                Array.Copy(node.Links[l], 0, links, 1, n);
                links[0] = n;
                _links[slot][l] = links;
            }
            _slotOf[node.Id] = slot;
        }
        for (int s = 0; s < _slots; s++)
        {
            foreach (var links in _links[s])
            {
                for (int i = 1; i <= links[0]; i++)
                {
                    if ((uint)links[i] >= (uint)_slots) throw new InvalidDataException($"HNSW snapshot links to node {links[i]} of {_slots}.");
                }
            }
        }
        _entry = snapshot.Graph.Entry;
        _maxLevel = snapshot.Graph.MaxLevel;
        if (_slots > 0 && ((uint)_entry >= (uint)_slots || _links[_entry].Length - 1 != _maxLevel)) ChooseNewEntry();
    }

    private readonly record struct Candidate(int Slot, float Distance);

    /// <summary>Per-search scratch space, pooled: generation-stamped visited marks (O(1) reset) and the two heaps.</summary>
    private sealed class VisitedSet
    {
        private int[] _marks = [];
        private int _generation;

        public PriorityQueue<int, float> Candidates { get; } = new();
        public PriorityQueue<int, float> Results { get; } = new();

        public void Reset(int size)
        {
            Candidates.Clear();
            Results.Clear();
            if (_marks.Length < size) _marks = new int[Math.Max(size, _marks.Length * 2)];
            if (++_generation == int.MaxValue)
            {
                Array.Clear(_marks);
                _generation = 1;
            }
        }

        /// <summary>Marks a slot; false if it was already visited.</summary>
        public bool Mark(int slot)
        {
            if (slot >= _marks.Length) Array.Resize(ref _marks, Math.Max(slot + 1, _marks.Length * 2));
            if (_marks[slot] == _generation) return false;
            _marks[slot] = _generation;
            return true;
        }
    }
}
