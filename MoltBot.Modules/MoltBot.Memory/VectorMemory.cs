using System.Collections.Concurrent;
using LiteDB;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using MoltBot.Memory.Storage;
using MoltBot.Memory.Vectors;

namespace MoltBot.Memory;

/// <summary>
/// Vector recall over facts and past user messages. The "vectors" collection is the source of truth; the HNSW
/// index is a snapshot (&lt;db&gt;.hnsw, written atomically) reconciled with it at start: vectors committed after
/// the snapshot are inserted, vectors deleted after it are removed, and a damaged snapshot is rebuilt from scratch.
/// </summary>
public sealed class VectorMemory(MemoryDatabase database, GroupCommitWriter writer, IOptions<MemoryOptions> options, ILogger<VectorMemory> logger) : IDisposable
{
    public const string FactKind = "fact";
    public const string MessageKind = "message";

    private readonly ConcurrentDictionary<long, string> _owner = new();
    private readonly Lock _createLock = new();
    private HnswIndex? _index;
    private long _nextId;
    private volatile bool _dirty;

    /// <summary>The index, or null while no vector was ever stored.</summary>
    public HnswIndex? Index => _index;

    private HnswParameters Parameters => new(options.Value.HnswM, options.Value.HnswEfConstruction, options.Value.HnswEfSearch, QuantizedWalk: options.Value.HnswQuantizedWalk);

    /// <summary>Loads the snapshot and reconciles it with LiteDB (or rebuilds it). Returns (replayed, removed).</summary>
    public (int Added, int Removed) Load()
    {
        string path = database.VectorSnapshotPath;
        if (File.Exists(path))
        {
            try
            {
                using var f = File.OpenRead(path);
                var (loaded, mark) = HnswIndex.Load(f, options.Value.HnswEfSearch, options.Value.HnswQuantizedWalk);
                _index = loaded;
                // Ids the snapshot used are never handed out again, even if LiteDB lost their documents in a crash.
                _nextId = Math.Max(_nextId, mark);
            }
            catch (Exception ex) when (ex is InvalidDataException or IOException or ArgumentException)
            {
                logger.LogWarning("Vector index snapshot {File} is unusable ({Reason}); rebuilding it from LiteDB", path, ex.Message);
                _index = null;
            }
        }

        int added = 0, removed = 0;
        var known = new HashSet<long>();
        foreach (var doc in database.Collection<VectorDoc>(Collections.Vectors).FindAll())
        {
            known.Add(doc.Id);
            _owner[doc.Id] = doc.User;
            _nextId = Math.Max(_nextId, doc.Id);
            var v = VectorDoc.Unpack(doc.Vector);
            if (v.Length == 0) continue;
            var index = IndexFor(v.Length);
            if (index.Dimension != v.Length || index.Contains(doc.Id)) continue;
            index.Add(doc.Id, v);
            added++;
        }
        if (_index is not null)
        {
            foreach (long id in _index.Ids())
            {
                if (!known.Contains(id) && _index.Remove(id)) removed++;
            }
        }
        if (added > 0 || removed > 0)
        {
            logger.LogInformation("Vector index reconciled with LiteDB: {Added} added, {Removed} removed, {Count} live", added, removed, _index?.Count ?? 0);
            SaveSnapshot();
        }
        return (added, removed);
    }

    /// <summary>Stores a vector (and <paramref name="extraWrite"/> in the same transaction), then indexes it. Returns its id.</summary>
    public async Task<long> AddAsync(string userKey, string kind, string refId, string text, long timestampMs, float[] vector,
        Action<LiteDatabase, long>? extraWrite, CancellationToken cancellationToken)
    {
        var pending = Prepare(userKey, kind, refId, text, timestampMs, vector);
        await writer.WriteAsync(db =>
        {
            extraWrite?.Invoke(db, pending.Doc.Id);
            Stage(db, pending);
        }, cancellationToken).ConfigureAwait(false);
        Commit(pending);
        return pending.Doc.Id;
    }

    /// <summary>A vector about to be stored: its document (with a fresh id) and its normalized vector.</summary>
    public sealed class PendingVector(VectorDoc doc, float[] normalized)
    {
        public VectorDoc Doc { get; } = doc;
        public float[] Normalized { get; } = normalized;
        public bool Stored { get; set; }
    }

    /// <summary>Normalizes and checks the vector and gives it an id; <see cref="Stage"/> stores it, <see cref="Commit"/> indexes it.</summary>
    public PendingVector Prepare(string userKey, string kind, string refId, string text, long timestampMs, float[] vector)
    {
        var normalized = VectorMath.Normalized(vector);
        var index = IndexFor(normalized.Length);
        if (index.Dimension != normalized.Length)
        {
            throw new InvalidOperationException($"Embedding has {normalized.Length} dimensions but the vector index holds {index.Dimension}; the sentence encoder changed. Move {database.VectorSnapshotPath} away and clear the 'vectors' collection to re-index.");
        }
        long id = Interlocked.Increment(ref _nextId);
        return new PendingVector(new VectorDoc { Id = id, User = userKey, Kind = kind, RefId = refId, Text = text, Ts = timestampMs, Vector = VectorDoc.Pack(normalized) }, normalized);
    }

    /// <summary>Inserts the document inside the caller's LiteDB transaction.</summary>
    public static void Stage(LiteDatabase db, PendingVector pending)
    {
        db.GetCollection<VectorDoc>(Collections.Vectors).Insert(pending.Doc);
        pending.Stored = true;
    }

    /// <summary>After the transaction committed: indexes a stored vector for search.</summary>
    public void Commit(PendingVector pending)
    {
        if (!pending.Stored) return;
        _owner[pending.Doc.Id] = pending.Doc.User;
        IndexFor(pending.Normalized.Length).Add(pending.Doc.Id, pending.Normalized);
        _dirty = true;
    }

    /// <summary>The user's k closest stored vectors to the query, closest first.</summary>
    public IReadOnlyList<(VectorDoc Doc, float Similarity)> Search(string userKey, float[] query, int k)
    {
        var index = _index;
        if (index is null || index.Dimension != query.Length || k <= 0) return [];
        var hits = index.Search(query, k, filter: id => _owner.TryGetValue(id, out var u) && u == userKey);
        var collection = database.Collection<VectorDoc>(Collections.Vectors);
        var result = new List<(VectorDoc, float)>(hits.Count);
        foreach (var hit in hits)
        {
            if (collection.FindById(hit.Id) is { } doc) result.Add((doc, hit.Similarity));
        }
        return result;
    }

    /// <summary>Removes the user's vectors from the index (the LiteDB documents are deleted by the caller) and snapshots.</summary>
    public int RemoveUser(string userKey)
    {
        int removed = 0;
        foreach (var (id, owner) in _owner)
        {
            if (owner != userKey) continue;
            _owner.TryRemove(id, out _);
            if (_index?.Remove(id) == true) removed++;
        }
        SaveSnapshot();
        return removed;
    }

    public void SnapshotIfChanged()
    {
        if (_dirty) SaveSnapshot();
    }

    /// <summary>Writes the snapshot to a temporary file, flushes it to disk, then renames it over the old one (atomic).</summary>
    public void SaveSnapshot()
    {
        var index = _index;
        if (index is null) return;
        _dirty = false;
        string path = database.VectorSnapshotPath, tmp = path + ".tmp";
        using (var f = new FileStream(tmp, FileMode.Create, FileAccess.Write, FileShare.None))
        {
            index.Save(f, Interlocked.Read(ref _nextId));
            f.Flush(flushToDisk: true);
        }
        File.Move(tmp, path, overwrite: true);
    }

    private HnswIndex IndexFor(int dimension)
    {
        if (_index is { } existing) return existing;
        lock (_createLock)
        {
            return _index ??= new HnswIndex(dimension, Parameters);
        }
    }

    public void Dispose() => _index?.Dispose();
}
