using System.Text;
using LiteDB;
using LiteDB.Engine;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using MoltBot.Contracts.Configuration;

namespace MoltBot.Memory.Storage;

/// <summary>
/// The LiteDB file under data/memory/. Opened once at start: a lock file keeps a second process away (LiteDB's own
/// locking is advisory on Linux), and a file whose header is not LiteDB's is refused before LiteDB can touch it,
/// so a corrupt file is reported and never overwritten.
/// </summary>
public sealed class MemoryDatabase : IDisposable
{
    // LiteDB 5 data files carry this text at offset 32 of the first page.
    private static readonly byte[] HeaderInfo = Encoding.ASCII.GetBytes("** This is a LiteDB file **");
    private const int HeaderInfoOffset = 32;

    private readonly ILogger<MemoryDatabase> _logger;
    private readonly bool _deferSync;
    private readonly int _checkpointPages;
    private LiteDatabase? _db;
    private FileStream? _lock;
    private DeferredSyncStream? _log;

    public MemoryDatabase(MoltBotPaths paths, IOptions<MemoryOptions> options, ILogger<MemoryDatabase> logger)
    {
        _logger = logger;
        FilePath = paths.Data("memory", options.Value.DatabaseFile);
        _deferSync = options.Value.DatabaseSyncMilliseconds > 0;
        _checkpointPages = options.Value.DatabaseCheckpointPages;
    }

    public string FilePath { get; }

    /// <summary>LiteDB's log (WAL) file: "moltbot.db" → "moltbot-log.db", the name LiteDB itself gives it.</summary>
    public string LogFilePath => Path.Combine(Path.GetDirectoryName(FilePath)!, Path.GetFileNameWithoutExtension(FilePath) + "-log" + Path.GetExtension(FilePath));

    /// <summary>The HNSW snapshot lives next to the LiteDB file.</summary>
    public string VectorSnapshotPath => FilePath + ".hnsw";

    public bool IsOpen => _db is not null;

    public LiteDatabase Db => _db ?? throw new InvalidOperationException("Memory storage is not open yet.");

    public ILiteCollection<T> Collection<T>(string name) => Db.GetCollection<T>(name);

    public void Open()
    {
        if (_db is not null) return;
        Directory.CreateDirectory(Path.GetDirectoryName(FilePath)!);
        string lockPath = FilePath + ".lock";
        try
        {
            _lock = new FileStream(lockPath, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
        }
        catch (IOException ex)
        {
            throw new StartupException($"Memory: the LiteDB file {FilePath} is locked by another process (lock file {lockPath}); stop the other MoltBot instance or use another Storage:DataDirectory.", ex);
        }
        catch (UnauthorizedAccessException ex)
        {
            _lock?.Dispose();
            throw new StartupException($"Memory: no permission to open {lockPath} next to the LiteDB file {FilePath}.", ex);
        }

        try
        {
            CheckHeader();
            var db = _deferSync ? OpenWithDeferredSync() : new LiteDatabase(new ConnectionString
            {
                Filename = FilePath,
                Connection = ConnectionType.Direct,
                AutoRebuild = false,
            }, DocumentMapper.Shared);
            try
            {
                EnsureSchema(db);
                // A pragma kept in the file's header: written only when it differs (opening writes nothing otherwise).
                if (db.CheckpointSize != _checkpointPages) db.CheckpointSize = _checkpointPages;
            }
            catch
            {
                db.Dispose();
                throw;
            }
            _db = db;
            _logger.LogInformation("Memory storage open: {File}", FilePath);
        }
        catch (StartupException)
        {
            ReleaseLock();
            throw;
        }
        catch (Exception ex) when (ex is LiteException or IOException or InvalidDataException or InvalidCastException or IndexOutOfRangeException or ArgumentException or UnauthorizedAccessException)
        {
            ReleaseLock();
            throw Corrupt(ex.Message, ex);
        }
    }

    // The data file stays LiteDB's own (fsynced at every checkpoint); only the log gets the deferred fsync.
    private LiteDatabase OpenWithDeferredSync()
    {
        _log = new DeferredSyncStream(LogFilePath);
        try
        {
            var engine = new LiteEngine(new EngineSettings { Filename = FilePath, LogStream = _log, AutoRebuild = false });
            return new LiteDatabase(engine, DocumentMapper.Shared, disposeOnClose: true);
        }
        catch
        {
            _log.Dispose();
            _log = null;
            throw;
        }
    }

    /// <summary>
    /// fsyncs LiteDB's log if anything was written since the last call, and says whether it did. No-op when
    /// Memory:DatabaseSyncMilliseconds is 0 (LiteDB fsyncs every commit itself then).
    /// </summary>
    public bool SyncLog()
    {
        var log = _log;
        if (log is null || !log.HasUnsyncedWrites) return false;
        log.SyncToDisk();
        return true;
    }

    private void CheckHeader()
    {
        if (!File.Exists(FilePath)) return;
        using var f = new FileStream(FilePath, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
        if (f.Length == 0) throw Corrupt("the file is empty", null);
        var head = new byte[HeaderInfoOffset + HeaderInfo.Length];
        int read = f.ReadAtLeast(head, head.Length, throwOnEndOfStream: false);
        if (read < head.Length || !head.AsSpan(HeaderInfoOffset).SequenceEqual(HeaderInfo)) throw Corrupt("it does not start with a LiteDB header", null);
    }

    private StartupException Corrupt(string why, Exception? inner) =>
        new($"Memory: the LiteDB file {FilePath} is corrupt or unreadable ({why}); it was left untouched: restore it from a backup, or move it away to start with empty memory.", inner);

    private static void EnsureSchema(LiteDatabase db)
    {
        // Queries select by conversation and sort the few rows they get; a Ts index only cost every insert.
        db.GetCollection(Collections.Messages).DropIndex(nameof(MessageDoc.Ts));
        // Indexes by name and expression text, the same ones (name, "$.Field") LiteDB derived from the member lambdas
        // earlier versions passed: no LINQ translation and no compiled name regex at start-up, and an existing file's
        // index is found equal, not redefined.
        var conversations = db.GetCollection(Collections.Conversations);
        EnsureFieldIndex(conversations, nameof(ConversationDoc.User));
        EnsureFieldIndex(conversations, nameof(ConversationDoc.LastActivityMs));
        conversations.EnsureIndex(UsersIndex, "$.Users[*]");
        DropMessageUserIndex(db);
        MoveMessagesToConversationKeys(db);
        EnsureCollectionExists(db, Collections.Messages);
        EnsureFieldIndex(db.GetCollection(Collections.Facts), nameof(FactDoc.User));
        var vectors = db.GetCollection(Collections.Vectors);
        EnsureFieldIndex(vectors, nameof(VectorDoc.User));
        EnsureFieldIndex(vectors, nameof(VectorDoc.RefId)); // the event-log replay looks a message's vector up by its message id
        // Every collection must exist before concurrent use: LiteDB 5 lets a reader see a collection that a writer's
        // uncommitted transaction is creating, and the read then fails ("page type must be collection page").
        // GetCollection alone creates nothing; an index does.
        EnsureFieldIndex(db.GetCollection(Collections.Profiles), nameof(ProfileDoc.UpdatedMs));
        EnsureFieldIndex(db.GetCollection(Collections.Meta), nameof(MetaDoc.Segment));
    }

    /// <summary>The index <c>collection.EnsureIndex(x =&gt; x.Field)</c> creates: named after the field, on "$.Field".</summary>
    private static void EnsureFieldIndex(ILiteCollection<BsonDocument> collection, string field) =>
        collection.EnsureIndex(field, "$." + field);

    /// <summary>The multikey index on <see cref="ConversationDoc.Users"/>.</summary>
    public const string UsersIndex = "Users";

    /// <summary>
    /// Files from before "messages" lost its User index (every message paid for it; only export and deletion read
    /// it): each conversation's <see cref="ConversationDoc.Users"/> is filled from its messages once, in the same
    /// transaction that drops the index, so a crash leaves either the old schema (done again next start) or the new.
    /// </summary>
    private static void DropMessageUserIndex(LiteDatabase db)
    {
        bool hasIndex = HasIndex(db, Collections.Messages, nameof(MessageDoc.User));
        if (!hasIndex) return;
        db.BeginTrans();
        try
        {
            var users = new Dictionary<string, List<string>>(StringComparer.Ordinal);
            // Raw documents: a file this old also has the old primary key (see MoveMessagesToConversationKeys, next).
            foreach (var m in db.GetCollection(Collections.Messages).FindAll())
            {
                string conv = m[nameof(MessageDoc.Conv)].AsString, user = m[nameof(MessageDoc.User)].AsString;
                if (!users.TryGetValue(conv, out var list)) users[conv] = list = [];
                if (!list.Contains(user)) list.Add(user);
            }
            var conversations = db.GetCollection<ConversationDoc>(Collections.Conversations);
            foreach (var (conv, list) in users)
            {
                if (conversations.FindById(conv) is not { } doc) continue;
                doc.Users = list;
                conversations.Update(doc);
            }
            db.GetCollection<MessageDoc>(Collections.Messages).DropIndex(nameof(MessageDoc.User));
            db.Commit();
        }
        catch
        {
            db.Rollback();
            throw;
        }
    }

    /// <summary>
    /// Files from before <see cref="MessageKey"/>: "messages" keyed by the message id, with a Conv index that every
    /// insert paid for. Each message is re-inserted under its conversation key (the old id kept as "Mid") and the
    /// Conv index dropped, in one transaction: a crash leaves either the old schema (converted again next start) or
    /// the new. The Conv index is the marker: a converted file has none.
    /// </summary>
    internal const int MigrationChunk = 1_000;

    private static void MoveMessagesToConversationKeys(LiteDatabase db)
    {
        bool hasIndex = HasIndex(db, Collections.Messages, nameof(MessageDoc.Conv));
        if (!hasIndex) return;
        db.BeginTrans();
        try
        {
            var messages = db.GetCollection(Collections.Messages);
            // In chunks, so a large file is never held in memory at once: the primary key orders strings (old ids)
            // before binary values (new keys), so the first documents in key order are the ones still to convert.
            while (true)
            {
                var chunk = messages.Query().OrderBy("_id").Limit(MigrationChunk).ToList().Where(d => d["_id"].IsString).ToList();
                if (chunk.Count == 0) break;
                foreach (var doc in chunk)
                {
                    var id = doc["_id"];
                    string messageId = id.AsString, conv = doc[nameof(MessageDoc.Conv)].AsString;
                    messages.Delete(id);
                    doc.Remove("_id");
                    doc["_id"] = MessageKey.For(conv, messageId);
                    doc["Mid"] = messageId;
                    // Two old ids cannot meet one key: the old primary key was the id alone.
                    messages.Insert(doc);
                }
            }
            messages.DropIndex(nameof(MessageDoc.Conv));
            db.Commit();
        }
        catch
        {
            db.Rollback();
            throw;
        }
    }

    /// <summary>
    /// "messages" has only its primary key, and a collection exists only once something created it: a document
    /// inserted and deleted in one transaction creates it for good (see the concurrency note in EnsureSchema).
    /// </summary>
    private static void EnsureCollectionExists(LiteDatabase db, string name)
    {
        if (db.CollectionExists(name)) return;
        db.BeginTrans();
        try
        {
            var collection = db.GetCollection(name);
            var probe = new BsonDocument { ["_id"] = new BsonValue(new byte[] { 0xFF, 0xFF, 0xFF }) };
            collection.Insert(probe);
            collection.Delete(probe["_id"]);
            db.Commit();
        }
        catch
        {
            db.Rollback();
            throw;
        }
    }

    /// <summary>Whether the file has the named index: the markers of the old schemas the conversions above look for.</summary>
    private static bool HasIndex(LiteDatabase db, string collection, string name)
    {
        // A scan of the few index rows: a filter expression would be parsed and compiled to a dynamic method.
        foreach (var index in db.GetCollection("$indexes").FindAll())
        {
            // Case-insensitive, as the expression's comparison under LiteDB's default collation was.
            if (string.Equals(index["collection"].AsString, collection, StringComparison.OrdinalIgnoreCase)
                && string.Equals(index["name"].AsString, name, StringComparison.OrdinalIgnoreCase)) return true;
        }
        return false;
    }

    private void ReleaseLock()
    {
        _lock?.Dispose();
        _lock = null;
    }

    public void Dispose()
    {
        _db?.Dispose();
        _db = null;
        if (_log is not null)
        {
            _log.Dispose(); // fsyncs what LiteDB wrote last
            _log = null;
        }
        ReleaseLock();
    }
}
