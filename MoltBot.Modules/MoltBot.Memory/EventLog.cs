using System.Threading.Channels;
using LiteDB;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using MoltBot.Contracts.Memory;
using MoltBot.Memory.Storage;

namespace MoltBot.Memory;

/// <summary>
/// The time-series event log: append-only segment files next to the LiteDB file (see <see cref="EventSegments"/>),
/// with group commit — one writer takes everything queued (up to Memory:MaxBatchSize), writes it as one frame and
/// fsyncs once; an append completes only after that, so "acknowledged" means durable — and an in-memory
/// (conversation, time) index for range queries. LiteDB measured at most ≈ 8–23k indexed inserts/s here, short of
/// the 50,000 events/s goal (docs/performance.md), hence the dedicated files; LiteDB keeps everything else.
/// Retention and user deletion rewrite the affected segments atomically on the same writer.
/// </summary>
public sealed class EventLog : IEventLog, IAsyncDisposable
{
    private readonly MemoryDatabase _database;
    private readonly ReplayMark _mark;
    private readonly MemoryOptions _options;
    private readonly TimeProvider _clock;
    private readonly ILogger<EventLog> _logger;
    private readonly Channel<Request> _queue;
    private readonly EventIndex _index = new();
    // Reads hold it shared; a rewrite (retention, deletion) holds it exclusively while files and index change.
    private readonly ReaderWriterLockSlim _gate = new(LockRecursionPolicy.NoRecursion);
    private EventSegments? _segments;
    private Task? _loop;
    private List<EventRecord>? _replay = new();
    private long _end; // packed EventPosition after the last committed event (written by the writer only)
    private long _rewrites; // bumped around every rewrite: positions read before one are void after it
    // Held for every commit and maintenance run: by the writer loop, or by a caller that found the writer idle and its
    // queue empty and commits its own events (no hand-off to the writer and back at light load).
    private readonly SemaphoreSlim _writing = new(1, 1);
    private volatile bool _stopping;
    private long _inlineCommits;
    private volatile int _lastCommitSize = 1; // append calls in the last frame: above 1, appends arrive concurrently

    /// <summary>Commits made by the appending caller itself because the writer was idle (diagnostics and tests).</summary>
    public long InlineCommits => Interlocked.Read(ref _inlineCommits);

    /// <summary>Requests waiting for the writer (diagnostics and tests).</summary>
    internal int QueuedRequests => _queue.Reader.Count;

    /// <summary>
    /// Tests: holds the commit lock as a commit in progress does, so appends queue behind it (none commits inline)
    /// until the returned handle is disposed. How fast a box's fsync is decides whether concurrent appenders ever
    /// meet a busy writer; this makes the grouping testable without depending on it.
    /// </summary>
    internal async Task<IDisposable> HoldCommitsAsync()
    {
        await _writing.WaitAsync().ConfigureAwait(false);
        return new Release(_writing);
    }

    private sealed class Release(SemaphoreSlim semaphore) : IDisposable
    {
        private int _released;
        public void Dispose()
        {
            if (Interlocked.Exchange(ref _released, 1) == 0) semaphore.Release();
        }
    }

    public EventLog(MemoryDatabase database, ReplayMark mark, IOptions<MemoryOptions> options, TimeProvider clock, ILogger<EventLog> logger)
    {
        _database = database;
        _mark = mark;
        _options = options.Value;
        _clock = clock;
        _logger = logger;
        _queue = Channel.CreateBounded<Request>(new BoundedChannelOptions(_options.WriteQueueCapacity)
        {
            SingleReader = true,
            FullMode = BoundedChannelFullMode.Wait,
        });
    }

    /// <summary>data/memory/&lt;DatabaseFile&gt;.events</summary>
    public string DirectoryPath => _database.FilePath + ".events";

    /// <summary>Group commits (frames fsynced) so far: how well appends are grouped.</summary>
    public long Commits { get; private set; }

    public int Count => _index.Count;

    public bool IsOpen => _segments is not null;

    /// <summary>Sealed segments indexed from their snapshot (not scanned) at open.</summary>
    public int SnapshotsUsed => _segments?.SnapshotsUsed ?? 0;

    public int Depth => _queue.Reader.Count;

    private EventSegments Segments => _segments ?? throw new InvalidOperationException("The event log is not open yet.");

    /// <summary>
    /// Opens the segments (a corrupt one stops start-up, naming the file), builds the index, moves events a previous
    /// version kept in LiteDB's "events" collection into the log, and starts the writer. Call after the database opened.
    /// </summary>
    public void Open()
    {
        if (_segments is not null) return;
        var segments = new EventSegments(DirectoryPath, (long)_options.EventSegmentMegabytes << 20, _logger);
        var loaded = new List<(string, EventPointer)>();
        var replayFrom = _mark.Load();
        var replay = new List<EventRecord>();
        try
        {
            // Segments the replay needs records from are scanned; older sealed ones come from their index snapshots.
            segments.Open((conv, pointer, record) =>
            {
                loaded.Add((conv, pointer));
                // Messages recorded through the conversation store (they carry their id) at or after the mark.
                if (record is { IsMessage: true, Ref: not null } && !replayFrom.IsAfter(pointer)) replay.Add(record);
                SetEnd(pointer);
            }, scanFrom: replayFrom.Segment);
            _index.AddRange(loaded);
            MigrateFromLiteDb(segments);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            segments.Dispose();
            throw new Contracts.Configuration.StartupException($"Memory: cannot open the event log under {DirectoryPath} ({ex.Message}); check its permissions and free disk space.", ex);
        }
        catch
        {
            segments.Dispose();
            throw;
        }
        _segments = segments;
        _replay = replay;
        _loop = Task.Run(RunAsync);
        _logger.LogInformation("Event log open: {Count} events in {Segments} segment(s) under {Directory} ({Snapshots} read from index snapshots)",
            _index.Count, segments.SegmentCount, DirectoryPath, segments.SnapshotsUsed);
    }

    /// <summary>
    /// Earlier versions stored events in LiteDB. They move over in one frame (all or nothing), then the collection is
    /// dropped; a crash in between is recognised at the next start by a non-empty log and only the drop is repeated.
    /// </summary>
    private void MigrateFromLiteDb(EventSegments segments)
    {
        var db = _database.Db;
        if (!db.CollectionExists(Collections.Events)) return;
        if (_index.Count == 0)
        {
            var docs = db.GetCollection(Collections.Events).Query().OrderBy("Ts").ToList();
            var records = docs.Select(d => new EventRecord(d["Ts"].AsInt64, d["Conv"].AsString, d["User"].AsString, d["Kind"].AsString,
                NullableString(d["Text"]), NullableString(d["Data"]), NullableString(d["Ref"]))).ToList();
            if (records.Count > 0)
            {
                var pointers = segments.Append(records.Select(r => (r.Conv, r.Encode(), r.Ts, r.IsMessage)).ToList());
                _index.AddRange(records.Select((r, i) => (r.Conv, pointers[i])).ToList());
                _logger.LogInformation("Moved {Count} events from LiteDB into the event log", records.Count);
            }
        }
        db.DropCollection(Collections.Events);
        db.Checkpoint();

        static string? NullableString(BsonValue v) => v.IsNull ? null : v.AsString;
    }

    /// <summary>The message events from the replay mark on, read while opening (once: the list is handed over).</summary>
    internal IReadOnlyList<EventRecord> TakeReplay()
    {
        var replay = _replay ?? [];
        _replay = null;
        return replay;
    }

    /// <summary>The position after the last committed event.</summary>
    internal EventPosition End
    {
        get
        {
            long v = Volatile.Read(ref _end);
            return new EventPosition((int)(v >> 32), (int)(uint)v);
        }
    }

    private void SetEnd(EventPointer last) =>
        Volatile.Write(ref _end, ((long)last.Segment << 32) | (uint)(last.Offset + last.Length));

    /// <summary>
    /// Moves the replay mark up to the events committed so far. Every message's LiteDB write is queued before its
    /// event (ConversationStore), so the mark's LiteDB write, queued after reading the position, commits after all of
    /// theirs. A rewrite makes the generation odd while it runs and even again after; a position read across one is
    /// void (its offsets may have moved).
    /// </summary>
    internal async Task AdvanceReplayMarkAsync(CancellationToken cancellationToken)
    {
        long generation = Interlocked.Read(ref _rewrites);
        var position = End;
        if (generation % 2 != 0) return;
        await _mark.AdvanceAsync(position, () => Interlocked.Read(ref _rewrites) == generation, cancellationToken).ConfigureAwait(false);
    }

    public async ValueTask AppendAsync(LoggedEvent loggedEvent, CancellationToken cancellationToken) =>
        await AppendAsync(ToRecord(loggedEvent, null), cancellationToken).ConfigureAwait(false);

    internal static EventRecord ToRecord(LoggedEvent e, string? messageId) =>
        new(e.TimestampMs, e.ConversationKey, e.UserKey, e.Kind, e.Text, e.DataJson, messageId);

    /// <summary>Queues the event (waits while the queue is full) and completes once it is durable.</summary>
    internal async ValueTask AppendAsync(EventRecord record, CancellationToken cancellationToken)
    {
        // Encoding happens here, on the caller's thread: a bad event fails alone, and the writer only copies bytes.
        var request = new AppendRequest(record.Conv, record.Encode(), record.Ts, record.IsMessage);
        if (!TryCommitInline([request])) await EnqueueAsync(request, cancellationToken).ConfigureAwait(false);
        // Once queued the event will be committed even if the caller stops waiting.
        await request.Done.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Queues the events as one request, so they go into the same frame (one fsync) in this order, and completes
    /// once they are durable. The events are encoded first: a bad one fails the call before anything is queued.
    /// </summary>
    internal async ValueTask AppendAllAsync(IReadOnlyList<EventRecord> records, CancellationToken cancellationToken)
    {
        var group = new AppendGroup(records.Select(r => new AppendRequest(r.Conv, r.Encode(), r.Ts, r.IsMessage)).ToList());
        if (!TryCommitInline(group.Items)) await EnqueueAsync(group, cancellationToken).ConfigureAwait(false);
        await Task.WhenAll(group.Items.Select(i => i.Done.Task)).WaitAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Light load: with nothing queued, the writer idle and the last frame a single request's, the caller writes its
    /// frame and fsyncs it itself, as the writer would have (same frame, same order guarantees: nothing queued ahead of
    /// it). Once frames hold several requests (concurrent appenders) everything goes through the writer, whose group
    /// commits would otherwise be cut in two by a caller committing alone. False: queue them.
    /// </summary>
    private bool TryCommitInline(List<AppendRequest> items)
    {
        if (_lastCommitSize > 1 || _queue.Reader.Count != 0 || _stopping || _loop is null || !_writing.Wait(0)) return false;
        try
        {
            if (_queue.Reader.Count != 0 || _stopping || _segments is null) return false;
            Commit([.. items]); // tells each request its outcome
            Interlocked.Increment(ref _inlineCommits);
            return true;
        }
        finally
        {
            _writing.Release();
        }
    }

    private async ValueTask EnqueueAsync(Request request, CancellationToken cancellationToken)
    {
        try
        {
            await _queue.Writer.WriteAsync(request, cancellationToken).ConfigureAwait(false);
        }
        catch (ChannelClosedException ex)
        {
            throw new InvalidOperationException("The event log is shut down; the write was not accepted.", ex);
        }
    }

    private async Task RunAsync()
    {
        var batch = new List<AppendRequest>(Math.Min(_options.MaxBatchSize, 4096));
        int requests = 0;
        var reader = _queue.Reader;
        while (await reader.WaitToReadAsync().ConfigureAwait(false))
        {
            while (reader.TryRead(out var request))
            {
                if (request is AppendRequest append)
                {
                    batch.Add(append);
                    requests++;
                    if (batch.Count >= _options.MaxBatchSize) requests = await CommitHeldAsync(batch, requests).ConfigureAwait(false);
                    continue;
                }
                if (request is AppendGroup group)
                {
                    // Kept together even past MaxBatchSize: a group is one turn, a handful of events.
                    batch.AddRange(group.Items);
                    requests++;
                    if (batch.Count >= _options.MaxBatchSize) requests = await CommitHeldAsync(batch, requests).ConfigureAwait(false);
                    continue;
                }
                // Maintenance runs between commits, after everything queued before it.
                requests = await CommitHeldAsync(batch, requests).ConfigureAwait(false);
                await _writing.WaitAsync().ConfigureAwait(false);
                try
                {
                    await ((MaintenanceRequest)request).RunAsync().ConfigureAwait(false);
                }
                finally
                {
                    _writing.Release();
                }
            }
            requests = await CommitHeldAsync(batch, requests).ConfigureAwait(false);
        }
    }

    /// <summary>Commits the batch holding <see cref="_writing"/>; returns the request count for the next batch (0).</summary>
    private async ValueTask<int> CommitHeldAsync(List<AppendRequest> batch, int requests)
    {
        if (batch.Count == 0) return 0;
        await _writing.WaitAsync().ConfigureAwait(false); // a caller's inline commit finishes first
        try
        {
            Commit(batch, requests);
        }
        finally
        {
            _writing.Release();
        }
        return 0;
    }

    // Synchronous on purpose: one write + fsync, then everyone in the batch is told.
    /// <param name="requests">Append calls the batch holds (a turn's group is one).</param>
    private void Commit(List<AppendRequest> batch, int requests = 1)
    {
        if (batch.Count == 0) return;
        try
        {
            var pointers = Segments.Append(batch.Select(r => (r.Conversation, r.Encoded, r.Ts, r.IsMessage)).ToList());
            Commits++;
            _lastCommitSize = requests;
            SetEnd(pointers[^1]);
            _index.AddRange(batch.Select((r, i) => (r.Conversation, pointers[i])).ToList());
            foreach (var r in batch) r.Done.TrySetResult();
        }
        catch (Exception ex)
        {
            _logger.LogError(ex, "Event log commit of {Count} events failed", batch.Count);
            foreach (var r in batch) r.Done.TrySetException(ex);
        }
        batch.Clear();
    }

    /// <summary>Rewrites segments on the writer, between commits, with files and index held exclusively.</summary>
    private async Task<int> RewriteAsync(Func<EventSegments.SegmentInfo, bool> mayContain, Func<EventRecord, bool> keep, CancellationToken cancellationToken)
    {
        var request = new MaintenanceRequest(async () =>
        {
            // Offsets move in rewritten segments: void any mark position read before, and put the stored mark back
            // to its segment's start (durably) before a file changes.
            Interlocked.Increment(ref _rewrites);
            await _mark.RewindForRewriteAsync(CancellationToken.None).ConfigureAwait(false);
            _gate.EnterWriteLock();
            try
            {
                var (removed, changed) = Segments.Rewrite(mayContain, keep);
                _index.ReplaceSegments(changed);
                return removed;
            }
            catch
            {
                // Some segments may have changed before the failure: index what the files hold now.
                _index.Clear();
                _index.AddRange(Segments.ScanAll().Select(x => (x.Record.Conv, x.Pointer)).ToList());
                throw;
            }
            finally
            {
                _gate.ExitWriteLock();
                Interlocked.Increment(ref _rewrites);
            }
        });
        await EnqueueAsync(request, cancellationToken).ConfigureAwait(false);
        return await request.Done.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
    }

    public Task<IReadOnlyList<LoggedEvent>> RangeAsync(string? conversationKey, long fromMs, long toMs, int limit, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        limit = Math.Max(0, limit);
        IReadOnlyList<LoggedEvent> result = Read(() => conversationKey is null ? _index.RangeAll(fromMs, toMs, limit) : _index.Range(conversationKey, fromMs, toMs, limit))
            .Select(r => new LoggedEvent(r.Conv, r.User, r.Kind, r.Ts, r.Text, r.Data)).ToList();
        return Task.FromResult(result);
    }

    /// <summary>The last <paramref name="count"/> message events of a conversation, oldest first (short-term rebuild).</summary>
    internal IReadOnlyList<EventRecord> LastMessages(string conversationKey, int count) => Read(() => _index.LastMessages(conversationKey, count));

    /// <summary>Every event of one user, oldest first (export: a pass over all segments).</summary>
    internal IReadOnlyList<EventRecord> ForUser(string userKey)
    {
        _gate.EnterReadLock();
        try
        {
            return Segments.ScanAll().Where(x => x.Record.User == userKey).OrderBy(x => x.Pointer).Select(x => x.Record).ToList();
        }
        finally
        {
            _gate.ExitReadLock();
        }
    }

    private List<EventRecord> Read(Func<List<EventPointer>> select)
    {
        _gate.EnterReadLock();
        try
        {
            var pointers = select();
            var records = new List<EventRecord>(pointers.Count);
            foreach (var p in pointers) records.Add(Segments.Read(p));
            return records;
        }
        finally
        {
            _gate.ExitReadLock();
        }
    }

    /// <summary>Removes every event of a user from the log files (user data rights). Returns how many.</summary>
    internal Task<int> DeleteUserAsync(string userKey, CancellationToken cancellationToken) =>
        RewriteAsync(_ => true, r => r.User != userKey, cancellationToken);

    /// <summary>Applies Memory:EventRetentionDays. Returns the number of events deleted.</summary>
    public async Task<int> ApplyRetentionAsync(CancellationToken cancellationToken)
    {
        int days = _options.EventRetentionDays;
        if (days <= 0) return 0;
        long cutoff = _clock.GetUtcNow().AddDays(-days).ToUnixTimeMilliseconds();
        int deleted = await RewriteAsync(s => s.Count > 0 && s.MinTs < cutoff, r => r.Ts >= cutoff, cancellationToken).ConfigureAwait(false);
        if (deleted > 0) _logger.LogInformation("Event log retention removed {Count} events older than {Days} days", deleted, days);
        return deleted;
    }

    /// <summary>Stops intake, commits everything already queued and closes the files.</summary>
    public async Task StopAsync()
    {
        _stopping = true;
        _queue.Writer.TryComplete();
        if (_loop is not null) await _loop.ConfigureAwait(false);
        if (_segments is null) return; // never opened, or already stopped
        await _writing.WaitAsync().ConfigureAwait(false); // an inline commit in flight finishes before the files close
        try
        {
            _segments?.Dispose();
            _segments = null;
        }
        finally
        {
            _writing.Release();
        }
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync().ConfigureAwait(false);
        _gate.Dispose();
        _writing.Dispose();
    }

    private abstract class Request;

    private sealed class AppendRequest(string conversation, byte[] encoded, long ts, bool isMessage) : Request
    {
        public string Conversation { get; } = conversation;
        public byte[] Encoded { get; } = encoded;
        public long Ts { get; } = ts;
        public bool IsMessage { get; } = isMessage;
        public TaskCompletionSource Done { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }

    /// <summary>Appends committed in the same frame (see <see cref="AppendAllAsync"/>).</summary>
    private sealed class AppendGroup(List<AppendRequest> items) : Request
    {
        public List<AppendRequest> Items { get; } = items;
    }

    private sealed class MaintenanceRequest(Func<Task<int>> action) : Request
    {
        public TaskCompletionSource<int> Done { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public async Task RunAsync()
        {
            try
            {
                Done.TrySetResult(await action().ConfigureAwait(false));
            }
            catch (Exception ex)
            {
                Done.TrySetException(ex);
            }
        }
    }
}
