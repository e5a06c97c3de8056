using LiteDB;
using MoltBot.Contracts.Skills;

namespace MoltBot.Skills.Dispatch;

/// <summary>
/// The LiteDB file behind the "storage" permission (data/skills/storage.db), opened on first use. Each skill gets its
/// own collection, so one skill cannot read another's keys. A skill's collection is created (committed) the first
/// time anything asks for it, under the lock and before anyone gets a handle to it: LiteDB 5 lets a reader see a
/// collection that another thread's uncommitted first write is creating, and the read then fails ("page type must
/// be collection page") and can leave the engine unusable.
/// </summary>
internal sealed class SkillStorageDatabase(string file) : IDisposable
{
    private readonly object _lock = new();
    private readonly HashSet<string> _created = new(StringComparer.Ordinal);
    private LiteDatabase? _db;
    private bool _disposed;

    public ISkillStorage For(string skillId) => new Store(this, "kv_" + new string(skillId.Select(c => char.IsLetterOrDigit(c) ? c : '_').ToArray()));

    private ILiteCollection<BsonDocument> Collection(string name)
    {
        lock (_lock)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (_db is null)
            {
                Directory.CreateDirectory(Path.GetDirectoryName(file)!);
                _db = new LiteDatabase(new ConnectionString { Filename = file, Connection = ConnectionType.Direct });
            }
            var collection = _db.GetCollection(name);
            if (!_created.Contains(name))
            {
                if (!_db.CollectionExists(name)) Create(_db, collection);
                _created.Add(name);
            }
            return collection;
        }
    }

    // GetCollection alone creates nothing; a document inserted and deleted in one transaction leaves the empty collection.
    private static void Create(LiteDatabase db, ILiteCollection<BsonDocument> collection)
    {
        const string probe = "\u0000moltbot:create";
        if (!db.BeginTrans()) throw new InvalidOperationException("Skill storage: a transaction was already open on this thread.");
        try
        {
            collection.Insert(new BsonDocument { ["_id"] = probe });
            collection.Delete(probe);
            db.Commit();
        }
        catch
        {
            db.Rollback();
            throw;
        }
    }

    public void Dispose()
    {
        lock (_lock)
        {
            _disposed = true;
            _db?.Dispose();
            _db = null;
        }
    }

    private sealed class Store(SkillStorageDatabase owner, string collection) : ISkillStorage
    {
        public Task<string?> GetAsync(string key, CancellationToken cancellationToken)
        {
            var doc = owner.Collection(collection).FindById(key);
            return Task.FromResult(doc?["value"].AsString);
        }

        public Task SetAsync(string key, string value, CancellationToken cancellationToken)
        {
            owner.Collection(collection).Upsert(new BsonDocument { ["_id"] = key, ["value"] = value });
            return Task.CompletedTask;
        }

        public Task<bool> DeleteAsync(string key, CancellationToken cancellationToken) =>
            Task.FromResult(owner.Collection(collection).Delete(key));

        public Task<IReadOnlyList<string>> KeysAsync(string prefix, CancellationToken cancellationToken)
        {
            IReadOnlyList<string> keys = owner.Collection(collection).Query()
                .Where(Query.StartsWith("_id", prefix)).Select(d => d["_id"].AsString).ToList();
            return Task.FromResult(keys);
        }
    }
}
