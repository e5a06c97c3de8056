using System.Threading.Channels;
using LiteDB;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace MoltBot.Memory.Storage;

/// <summary>
/// Group commit: every write goes through one bounded channel to a single writer, which applies whatever has queued
/// up (up to Memory:MaxBatchSize) in one LiteDB transaction. A write's task completes only after its transaction
/// committed, i.e. its pages were handed to LiteDB's disk writer, which writes them to the log file (with the OS)
/// shortly after; that log is fsynced every
/// Memory:DatabaseSyncMilliseconds (<see cref="DatabaseSyncer"/>), while the event log — every message and dialog
/// event — is fsynced before it acknowledges (see EventLog), and a start-up replay brings LiteDB's messages up to the
/// log (see LogReplay). Writes of one batch share the conversation documents they touch (<see cref="WriteBatch"/>).
/// One failing write does not fail its batch: the batch is rolled back and replayed one
/// write per transaction, so only the faulty one reports its error (a duplicate key is replayed the same way even
/// alone, with <see cref="WriteBatch.CheckDuplicates"/> set, so a repeated message is skipped instead of failing).
/// </summary>
public sealed class GroupCommitWriter : IAsyncDisposable
{
    private readonly MemoryDatabase _database;
    private readonly ILogger<GroupCommitWriter> _logger;
    private readonly Channel<WriteRequest> _queue;
    private readonly int _maxBatch;
    private readonly TimeSpan _linger;
    private readonly TimeProvider _clock;
    // Released once per queued write somebody waits for (a read's barrier, an awaited write, a checkpoint): it ends
    // the write-behind linger at once, so only writes nobody waits for are held back to grow the group.
    private readonly SemaphoreSlim _waitedFor = new(0, int.MaxValue);
    // Conversation documents as this writer last committed them: a turn's batch updates its conversation without
    // reading it back (only the writer changes conversations while running; dropped after any failed transaction).
    private readonly LruCache<string, ConversationDoc> _conversations;
    private Task? _loop;
    // Conversation documents committed by this writer but not written to LiteDB yet (Memory:ConversationFlushMilliseconds),
    // and when the oldest of them was left unwritten.
    private readonly Dictionary<string, ConversationDoc> _deferred = new(StringComparer.Ordinal);
    private readonly TimeSpan _flushInterval;
    private long _deferredSince;
    // Turns committed by this writer and held for their conversation's bucket document (null: every turn written at once).
    private readonly TurnBuckets? _buckets;

    /// <summary>The held turns (tests).</summary>
    internal TurnBuckets? Buckets => _buckets;

    // Conversation documents or turns not written to LiteDB yet.
    private bool Holding => _deferred.Count > 0 || _buckets is { IsEmpty: false };

    public GroupCommitWriter(MemoryDatabase database, IOptions<MemoryOptions> options, ILogger<GroupCommitWriter> logger, TimeProvider? clock = null)
    {
        _database = database;
        _logger = logger;
        _clock = clock ?? TimeProvider.System;
        _maxBatch = options.Value.MaxBatchSize;
        _linger = options.Value.DatabaseWriteBehind ? TimeSpan.FromMilliseconds(options.Value.WriteBehindLingerMilliseconds) : TimeSpan.Zero;
        // Bounded below the dialog-state cache: only conversations active within the last few batches gain from it.
        _conversations = new LruCache<string, ConversationDoc>(Math.Min(options.Value.DialogStateCacheCapacity, 4_096));
        // Without write-behind a write's task means "in LiteDB": nothing is held back then.
        _flushInterval = options.Value.DatabaseWriteBehind ? TimeSpan.FromMilliseconds(options.Value.ConversationFlushMilliseconds) : TimeSpan.Zero;
        if (_flushInterval > TimeSpan.Zero) _buckets = new TurnBuckets(Math.Min(options.Value.DialogStateCacheCapacity, 4_096));
        _queue = Channel.CreateBounded<WriteRequest>(new BoundedChannelOptions(options.Value.WriteQueueCapacity)
        {
            SingleReader = true,
            FullMode = BoundedChannelFullMode.Wait,
        });
    }

    /// <summary>Commits so far (for tests and benchmarks: how well writes are grouped).</summary>
    public long Commits { get; private set; }

    public int Depth => _queue.Reader.Count;

    private long _failures;

    /// <summary>Writes that failed since start (the replay mark stops advancing after one: see ReplayMark).</summary>
    public long Failures => Interlocked.Read(ref _failures);

    public void Start() => _loop ??= Task.Run(RunAsync);

    /// <summary>Queues a write (waits while the queue is full) and completes once it is committed.</summary>
    public ValueTask WriteAsync(Action<LiteDatabase> apply, CancellationToken cancellationToken) =>
        WriteAsync(batch => apply(batch.Db), cancellationToken);

    /// <summary>As above, for writes that share the batch's conversation documents (<see cref="WriteBatch"/>).</summary>
    public async ValueTask WriteAsync(Action<WriteBatch> apply, CancellationToken cancellationToken)
    {
        var committed = await EnqueueCoreAsync(apply, checkpoint: false, waitedFor: true, cancellationToken, null).ConfigureAwait(false);
        // Once queued the write will be committed even if the caller stops waiting.
        await committed.WaitAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Completes once every write queued before this call has been committed (or has failed): a read that goes to
    /// LiteDB awaits it first, so it sees the writes a caller issued without waiting for them (write-behind). Writes
    /// commit in queue order, so this is an empty write queued behind them.
    /// </summary>
    public ValueTask WhenWrittenAsync(CancellationToken cancellationToken) => WriteAsync(static (WriteBatch _) => { }, cancellationToken);

    /// <summary>Writes queued that the writer has not picked up yet (tests watch a read queue its barrier).</summary>
    internal int QueuedWrites => _queue.Reader.Count;

    /// <summary>
    /// Queues a write and returns, once it is queued, the task of its commit. Writes commit in the order they were
    /// queued: a caller that must order a LiteDB write before something else (the event-log replay mark relies on
    /// it) queues it first and awaits the commit later. With <paramref name="checkpoint"/> the commit is followed by
    /// a LiteDB checkpoint (its pending pages written and merged into the data file) before the task completes.
    /// </summary>
    public ValueTask<Task> EnqueueAsync(Action<LiteDatabase> apply, bool checkpoint, CancellationToken cancellationToken) =>
        EnqueueAsync(batch => apply(batch.Db), checkpoint, cancellationToken);

    /// <summary>As above, for writes that share the batch's conversation documents (<see cref="WriteBatch"/>).</summary>
    /// <param name="afterCommit">Runs on the writer after the commit succeeded and before the task completes, so
    /// <see cref="WhenWrittenAsync"/> also waits for it (write-behind callers index a vector there).</param>
    public ValueTask<Task> EnqueueAsync(Action<WriteBatch> apply, bool checkpoint, CancellationToken cancellationToken, Action? afterCommit = null) =>
        EnqueueCoreAsync(apply, checkpoint, waitedFor: checkpoint, cancellationToken, afterCommit);

    private async ValueTask<Task> EnqueueCoreAsync(Action<WriteBatch> apply, bool checkpoint, bool waitedFor, CancellationToken cancellationToken, Action? afterCommit)
    {
        var request = new WriteRequest(apply, checkpoint, afterCommit) { WaitedFor = waitedFor };
        try
        {
            await _queue.Writer.WriteAsync(request, cancellationToken).ConfigureAwait(false);
        }
        catch (ChannelClosedException ex)
        {
            throw new InvalidOperationException("Memory storage is shut down; the write was not accepted.", ex);
        }
        if (waitedFor && _linger > TimeSpan.Zero) _waitedFor.Release();
        return request.Done.Task;
    }

    private async Task RunAsync()
    {
        var batch = new List<WriteRequest>(_maxBatch);
        var reader = _queue.Reader;
        while (await WaitForWritesAsync(reader).ConfigureAwait(false))
        {
            if (reader.Count == 0)
            {
                // Idle for the flush interval with conversation documents still unwritten.
                batch.Clear();
                Commit(batch, flushAll: true);
                continue;
            }
            if (_linger > TimeSpan.Zero) await LingerAsync(reader).ConfigureAwait(false);
            batch.Clear();
            while (batch.Count < _maxBatch && reader.TryRead(out var request)) batch.Add(request);
            if (batch.Count > 0) Commit(batch, flushAll: false);
        }
        // Stopping: the conversation documents still held are written.
        if (Holding) Commit([], flushAll: true);
    }

    /// <summary>
    /// True once writes are queued, or (with conversation documents unwritten) when the flush interval is up; false
    /// once intake stopped and the queue is empty.
    /// </summary>
    private async ValueTask<bool> WaitForWritesAsync(ChannelReader<WriteRequest> reader)
    {
        if (!Holding) return await reader.WaitToReadAsync().ConfigureAwait(false);
        var left = _flushInterval - _clock.GetElapsedTime(_deferredSince);
        if (left <= TimeSpan.Zero) return true;
        using var timeout = new CancellationTokenSource(left, _clock);
        try { return await reader.WaitToReadAsync(timeout.Token).ConfigureAwait(false); }
        catch (OperationCanceledException) { return true; }
    }

    /// <summary>
    /// Write-behind: a group that is not full waits up to Memory:WriteBehindLingerMilliseconds for more writes, unless
    /// somebody waits for one of the queued writes (then it commits at once). Nobody waits for the rest on a reply's
    /// path, and each LiteDB transaction copies, logs and later checkpoints every page it touches: fewer, larger groups
    /// cost less per write.
    /// </summary>
    private async Task LingerAsync(ChannelReader<WriteRequest> reader)
    {
        if (reader.Count < _maxBatch && !_waitedFor.Wait(0))
        {
            using var timeout = new CancellationTokenSource(_linger, _clock);
            try { await _waitedFor.WaitAsync(timeout.Token).ConfigureAwait(false); }
            catch (OperationCanceledException) { }
        }
        // The releases for writes this group will take are spent; a write queued later releases again.
        while (_waitedFor.Wait(0)) { }
    }

    // Synchronous on purpose: LiteDB transactions belong to the thread that began them.
    private void Commit(List<WriteRequest> batch, bool flushAll)
    {
        var db = _database.Db;
        try
        {
            db.BeginTrans();
            var shared = new WriteBatch(db, _conversations, _deferred, _buckets);
            foreach (var r in batch) r.Apply(shared);
            // The conversation documents are written when somebody waits for a write of this group (a read that must
            // see them, the replay mark, a checkpoint), when the interval is up, or always with an interval of 0.
            shared.Flush(all: flushAll || _flushInterval <= TimeSpan.Zero || batch.Exists(r => r.WaitedFor)
                || (Holding && _clock.GetElapsedTime(_deferredSince) >= _flushInterval));
            db.Commit();
            Commits++;
            bool wereDeferred = Holding;
            shared.Committed();
            if (!wereDeferred && Holding) _deferredSince = _clock.GetTimestamp();
            Completed(db, batch);
            return;
        }
        catch (Exception ex)
        {
            SafeRollback(db);
            ForgetConversations();
            // A held conversation document that cannot be written must not fail every later group: each is written
            // alone, and one that fails is logged and dropped (the start-up replay recounts after a crash only).
            bool held = Holding;
            if (held) WriteHeldOneByOne(db, ex);
            if (batch.Count == 0) return;
            if (IsDuplicateKey(ex))
            {
                // Expected now and then: a redelivered or replayed message inserted without a look-up (see WriteBatch).
                _logger.LogDebug("A group commit of {Count} writes met a stored id; retrying them one by one with look-ups", batch.Count);
            }
            else if (batch.Count > 1 || held)
            {
                _logger.LogWarning(ex, "A group commit of {Count} writes failed; retrying them one by one", batch.Count);
            }
            else
            {
                Interlocked.Increment(ref _failures);
                batch[0].Done.TrySetException(ex);
                return;
            }
        }

        foreach (var r in batch)
        {
            try
            {
                db.BeginTrans();
                // The writer's documents (with any deferred changes) and everything written at once: a write retried
                // alone must not count from a stale stored document.
                var single = new WriteBatch(db, _conversations, _deferred, _buckets) { CheckDuplicates = true };
                r.Apply(single);
                single.Flush(all: true);
                db.Commit();
                Commits++;
                single.Committed();
            }
            catch (Exception ex)
            {
                SafeRollback(db);
                ForgetConversations();
                Interlocked.Increment(ref _failures);
                r.Done.TrySetException(ex);
                continue;
            }
            Completed(db, [r]);
        }
    }

    // After a commit: a checkpoint if one was asked for (its failure fails only the writes that asked), then done.
    private void Completed(LiteDatabase db, List<WriteRequest> committed)
    {
        Exception? checkpointFailure = null;
        if (committed.Exists(r => r.Checkpoint))
        {
            try { db.Checkpoint(); }
            catch (Exception ex) { checkpointFailure = ex; _logger.LogError(ex, "LiteDB checkpoint failed"); }
        }
        foreach (var r in committed)
        {
            if (r.Checkpoint && checkpointFailure is not null)
            {
                r.Done.TrySetException(checkpointFailure);
                continue;
            }
            try
            {
                r.AfterCommit?.Invoke();
            }
            catch (Exception ex)
            {
                // The write itself is committed; only what followed it failed.
                _logger.LogError(ex, "A step after a LiteDB commit failed");
            }
            r.Done.TrySetResult();
        }
    }

    private void WriteHeldOneByOne(LiteDatabase db, Exception groupFailure)
    {
        if (_buckets is not null)
        {
            var messages = db.GetCollection<MessageDoc>(Collections.Messages);
            foreach (var bucket in _buckets.Buckets().ToList())
            {
                try
                {
                    db.BeginTrans();
                    messages.Insert(bucket);
                    db.Commit();
                    Commits++;
                }
                catch (Exception ex)
                {
                    SafeRollback(db);
                    // As a conversation document below: the event log still has the turns, and the replay mark stops.
                    Interlocked.Increment(ref _failures);
                    _logger.LogError(ex, "{Turns} turns of conversation {ConversationKey} could not be written to LiteDB and were dropped until the next start's replay (after: {GroupFailure})",
                        1 + (bucket.More?.Count ?? 0), bucket.Conv, groupFailure.Message);
                }
                _buckets.Drop(bucket);
            }
        }
        var collection = db.GetCollection<ConversationDoc>(Collections.Conversations);
        foreach (var (id, doc) in _deferred.ToList())
        {
            try
            {
                db.BeginTrans();
                collection.Upsert(doc);
                db.Commit();
                Commits++;
                _conversations.Set(id, doc);
            }
            catch (Exception ex)
            {
                SafeRollback(db);
                // Counted as a failed write: the replay mark stops here, so the next start's replay recounts it.
                Interlocked.Increment(ref _failures);
                _logger.LogError(ex, "Conversation document {ConversationKey} could not be written to LiteDB and was dropped (after: {GroupFailure})",
                    id, groupFailure.Message);
            }
            _deferred.Remove(id);
        }
    }

    // A batch works on copies of the writer's documents, so a rolled-back one changed none of them; the cache is still
    // dropped (cheap, and what LiteDB holds is certain). The deferred documents stay: only they have those changes.
    // The buckets' known ids stay: ids read inside the rolled-back transaction may include what it inserted, and an id
    // known but not stored only costs a confirmation against the documents (WriteBatch.IsStored); none is ever missing
    // (what a batch adds is noted only once it committed).
    private void ForgetConversations() => _conversations.Clear();

    private static bool IsDuplicateKey(Exception ex) => ex is LiteException { ErrorCode: LiteException.INDEX_DUPLICATE_KEY };

    private void SafeRollback(LiteDatabase db)
    {
        try { db.Rollback(); }
        catch (Exception ex) { _logger.LogError(ex, "LiteDB rollback failed"); }
    }

    /// <summary>Stops intake and commits everything already queued.</summary>
    public async Task StopAsync()
    {
        _queue.Writer.TryComplete();
        if (_loop is not null) await _loop.ConfigureAwait(false);
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync().ConfigureAwait(false);
        _waitedFor.Dispose();
    }

    private sealed class WriteRequest(Action<WriteBatch> apply, bool checkpoint, Action? afterCommit = null)
    {
        public Action<WriteBatch> Apply { get; } = apply;
        public bool Checkpoint { get; } = checkpoint;
        public Action? AfterCommit { get; } = afterCommit;
        /// <summary>Somebody waits for this write's commit (a read barrier, an awaited write, a checkpoint).</summary>
        public bool WaitedFor { get; init; }
        public TaskCompletionSource Done { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }
}
