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

    /// <summary>The open database's mapper (null before the open).</summary>
    internal BsonMapper? Mapper => _db?.Mapper;

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
            try
            {
                _db = new LiteDatabase(new ConnectionString { Filename = _file, Connection = ConnectionType.Direct }, ReminderMapper.Shared);
                var reminders = _db.GetCollection<Reminder>("reminders");
                // The indexes EnsureIndex(r => r.UserKey) and (r => r.DueMs) created, by name and expression text: no
                // LINQ translation or compiled name regex at the open, and an existing file's indexes are found equal.
                reminders.EnsureIndex(nameof(Reminder.UserKey), "$." + nameof(Reminder.UserKey));
                reminders.EnsureIndex(nameof(Reminder.DueMs), "$." + nameof(Reminder.DueMs));
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
        Reminders.Find(BsonExpression.Create("($.UserKey = @0 AND $.State = @1)", userKey, PendingState)).OrderBy(r => r.DueMs).ToList();

    /// <summary>Pending reminders due at or before <paramref name="nowMs"/>, oldest first.</summary>
    public IReadOnlyList<Reminder> Due(long nowMs) =>
        Reminders.Find(BsonExpression.Create("($.State = @0 AND $.DueMs <= @1)", PendingState, nowMs)).OrderBy(r => r.DueMs).ToList();

    public long? NextDueMs()
    {
        var next = Reminders.Query().Where(BsonExpression.Create("$.State = @0", PendingState)).OrderBy("$.DueMs").Limit(1).FirstOrDefault();
        return next?.DueMs;
    }

    // Filters as expression text with parameters, not LINQ: a lambda's translation evaluates its captured values
    // through expression trees compiled on every call. Parameters, not Query.EQ & co., which write the value into the
    // text: LiteDB compiles (and keeps) one dynamic method per distinct text. The state is stored by name
    // (BsonMapper.EnumAsInteger is false), as the LINQ translation compared it.
    private static readonly BsonValue PendingState = nameof(ReminderState.Pending);

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
