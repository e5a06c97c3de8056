using LiteDB;
using MoltBot.Contracts.Skills;

namespace MoltBot.Skills.Dispatch;

/// <summary>
/// The LiteDB file behind the "storage" permission (data/skills/storage.db), opened on first use. Each skill gets its
/// own collection, so one skill cannot read another's keys.
/// </summary>
internal sealed class SkillStorageDatabase(string file) : IDisposable
{
    private readonly object _lock = new();
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
            return _db.GetCollection(name);
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
