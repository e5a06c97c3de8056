using LiteDB;
using MoltBot.Contracts.Configuration;

namespace MoltBot.Skills.Reminders;

public enum ReminderState
{
    Pending,
    Fired,
    Cancelled,
    /// <summary>Fell due while MoltBot was down and Skills:Reminders:FireLateOnStart is false.</summary>
    Missed,
}

/// <summary>One reminder, with everything needed to deliver it to the conversation it came from.</summary>
public sealed class Reminder
{
    public string Id { get; set; } = "";
    public string UserKey { get; set; } = "";
    public string Platform { get; set; } = "";
    public string Account { get; set; } = "default";
    public string ConversationId { get; set; } = "";
    public string UserId { get; set; } = "";
    public string Text { get; set; } = "";
    public string Language { get; set; } = "en";
    public string TimeZone { get; set; } = "UTC";
    public long DueMs { get; set; }
    public long CreatedMs { get; set; }
    public long? FiredMs { get; set; }
    public ReminderState State { get; set; } = ReminderState.Pending;
}

/// <summary>
/// Reminders in LiteDB (data/skills/reminders.db), so they survive restarts. Constructing the store touches no file: the
/// database opens on <see cref="Open"/> or on the first operation (whichever comes first; concurrent callers wait for
/// the one open), so start-up can open it after the first reply (<see cref="ReminderStoreOpening"/>): it is the process's
/// first LiteDB file, and its first use costs hundreds of milliseconds of JIT and mapper building.
/// </summary>
public sealed class ReminderStore : IDisposable
{
    private readonly string _file;
    private readonly Lock _gate = new();
    private LiteDatabase? _db;
    private ILiteCollection<Reminder>? _opened;
    private StartupException? _failure;
    private bool _disposed;
    private readonly TaskCompletionSource _whenOpen = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public ReminderStore(string file) => _file = file;

    /// <summary>True once the database is open.</summary>
    public bool IsOpen => Volatile.Read(ref _opened) is not null;

    /// <summary>
    /// Completes when the database opens, by <see cref="Open"/> or by a first operation; faults with the
    /// <see cref="StartupException"/> when an attempt to open it failed.
    /// </summary>
    public Task WhenOpen => _whenOpen.Task;

    /// <summary>
    /// Opens the database if it is not open yet (thread-safe, once). A database that cannot be opened throws a
    /// <see cref="StartupException"/> naming the file, now and on every later call.
    /// </summary>
    public void Open() => _ = Reminders;

    private ILiteCollection<Reminder> Reminders => Volatile.Read(ref _opened) ?? OpenOnce();

    private ILiteCollection<Reminder> OpenOnce()
    {
        lock (_gate)
        {
            if (_opened is not null) return _opened;
            if (_failure is not null) throw new StartupException(_failure.Message, _failure.InnerException);
            ObjectDisposedException.ThrowIf(_disposed, this);
            Directory.CreateDirectory(Path.GetDirectoryName(_file)!);
            var mapper = new BsonMapper();
            mapper.Entity<Reminder>().Id(r => r.Id, autoId: false);
            try
            {
                _db = new LiteDatabase(new ConnectionString { Filename = _file, Connection = ConnectionType.Direct }, mapper);
                var reminders = _db.GetCollection<Reminder>("reminders");
                reminders.EnsureIndex(r => r.UserKey);
                reminders.EnsureIndex(r => r.DueMs);
                Volatile.Write(ref _opened, reminders);
                _whenOpen.TrySetResult();
                return reminders;
            }
            // A damaged file throws more than LiteException (reading garbage pages can fail anywhere in the engine).
            catch (Exception ex) when (ex is not OutOfMemoryException)
            {
                try { _db?.Dispose(); } catch (Exception) { /* the open failure is what gets reported */ }
                _failure = new StartupException($"Reminder database {_file} cannot be opened ({ex.Message.ReplaceLineEndings(" ")}); restore it from a backup or move it away to start with no reminders.", ex);
                _whenOpen.TrySetException(_failure);
                throw _failure;
            }
        }
    }

    public void Add(Reminder reminder)
    {
        if (string.IsNullOrEmpty(reminder.Id)) reminder.Id = Guid.NewGuid().ToString("N")[..12];
        Reminders.Insert(reminder);
    }

    /// <summary>A user's pending reminders, soonest first.</summary>
    public IReadOnlyList<Reminder> Pending(string userKey) =>
        Reminders.Find(r => r.UserKey == userKey && r.State == ReminderState.Pending).OrderBy(r => r.DueMs).ToList();

    /// <summary>Pending reminders due at or before <paramref name="nowMs"/>, oldest first.</summary>
    public IReadOnlyList<Reminder> Due(long nowMs) =>
        Reminders.Find(r => r.State == ReminderState.Pending && r.DueMs <= nowMs).OrderBy(r => r.DueMs).ToList();

    public long? NextDueMs()
    {
        var next = Reminders.Query().Where(r => r.State == ReminderState.Pending).OrderBy(r => r.DueMs).Limit(1).FirstOrDefault();
        return next?.DueMs;
    }

    public Reminder? Get(string id) => Reminders.FindById(id);

    public bool Cancel(string id)
    {
        var r = Reminders.FindById(id);
        if (r is null || r.State != ReminderState.Pending) return false;
        r.State = ReminderState.Cancelled;
        return Reminders.Update(r);
    }

    public void Mark(string id, ReminderState state, long atMs)
    {
        var r = Reminders.FindById(id);
        if (r is null) return;
        r.State = state;
        r.FiredMs = atMs;
        Reminders.Update(r);
    }

    public void Dispose()
    {
        lock (_gate)
        {
            _disposed = true;
            _db?.Dispose();
            _db = null;
        }
    }
}
