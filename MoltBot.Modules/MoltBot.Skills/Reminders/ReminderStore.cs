using LiteDB;

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

/// <summary>Reminders in LiteDB (data/skills/reminders.db), so they survive restarts.</summary>
public sealed class ReminderStore : IDisposable
{
    private readonly LiteDatabase _db;
    private readonly ILiteCollection<Reminder> _reminders;

    public ReminderStore(string file)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(file)!);
        var mapper = new BsonMapper();
        mapper.Entity<Reminder>().Id(r => r.Id, autoId: false);
        try
        {
            _db = new LiteDatabase(new ConnectionString { Filename = file, Connection = ConnectionType.Direct }, mapper);
            _reminders = _db.GetCollection<Reminder>("reminders");
            _reminders.EnsureIndex(r => r.UserKey);
            _reminders.EnsureIndex(r => r.DueMs);
        }
        catch (Exception ex) when (ex is LiteException or IOException or UnauthorizedAccessException)
        {
            _db?.Dispose();
            throw new MoltBot.Contracts.Configuration.StartupException($"Reminder database {file} cannot be opened ({ex.Message}); restore it from a backup or move it away to start with no reminders.", ex);
        }
    }

    public void Add(Reminder reminder)
    {
        if (string.IsNullOrEmpty(reminder.Id)) reminder.Id = Guid.NewGuid().ToString("N")[..12];
        _reminders.Insert(reminder);
    }

    /// <summary>A user's pending reminders, soonest first.</summary>
    public IReadOnlyList<Reminder> Pending(string userKey) =>
        _reminders.Find(r => r.UserKey == userKey && r.State == ReminderState.Pending).OrderBy(r => r.DueMs).ToList();

    /// <summary>Pending reminders due at or before <paramref name="nowMs"/>, oldest first.</summary>
    public IReadOnlyList<Reminder> Due(long nowMs) =>
        _reminders.Find(r => r.State == ReminderState.Pending && r.DueMs <= nowMs).OrderBy(r => r.DueMs).ToList();

    public long? NextDueMs()
    {
        var next = _reminders.Query().Where(r => r.State == ReminderState.Pending).OrderBy(r => r.DueMs).Limit(1).FirstOrDefault();
        return next?.DueMs;
    }

    public Reminder? Get(string id) => _reminders.FindById(id);

    public bool Cancel(string id)
    {
        var r = _reminders.FindById(id);
        if (r is null || r.State != ReminderState.Pending) return false;
        r.State = ReminderState.Cancelled;
        return _reminders.Update(r);
    }

    public void Mark(string id, ReminderState state, long atMs)
    {
        var r = _reminders.FindById(id);
        if (r is null) return;
        r.State = state;
        r.FiredMs = atMs;
        _reminders.Update(r);
    }

    public void Dispose() => _db.Dispose();
}
