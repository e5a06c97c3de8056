using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using MoltBot.Memory.Storage;

namespace MoltBot.Memory;

/// <summary>
/// Opens storage at start (a corrupt or locked file stops start-up with a StartupException naming it), reconciles the
/// vector index, replays the event log's newest messages into LiteDB (LogReplay), starts the group-commit writer, and
/// runs the replay mark, retention and index snapshots in the background. At stop it commits every queued write,
/// moves the replay mark to the log's end and snapshots the index.
/// </summary>
internal sealed class MemoryService(
    MemoryDatabase database, GroupCommitWriter writer, DatabaseSyncer syncer, VectorMemory vectors, EventLog eventLog, LogReplay replay, ReplayMark mark, IOptions<MemoryOptions> options,
    TimeProvider clock, ILogger<MemoryService> logger) : IHostedService, IAsyncDisposable
{
    private readonly CancellationTokenSource _stopping = new();
    private Task? _background;
    private Lazy<Task>? _stop; // the one close, shared by concurrent StopAsync callers
    private bool _replayed; // the final replay mark is only written when the start-up replay completed

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        database.Open();
        try
        {
            eventLog.Open();
        }
        catch
        {
            database.Dispose(); // releases the lock file: the start-up error is the whole story
            throw;
        }
        var (added, removed) = await Task.Run(vectors.Load, cancellationToken).ConfigureAwait(false);
        await Task.Run(replay.Run, cancellationToken).ConfigureAwait(false);
        _replayed = true;
        logger.LogInformation("Vector recall ready: {Count} vectors ({Added} replayed, {Removed} removed since the last snapshot)",
            vectors.Index?.Count ?? 0, added, removed);
        writer.Start();
        syncer.Start();
        await eventLog.ApplyRetentionAsync(cancellationToken).ConfigureAwait(false);
        _background = Task.Run(() => BackgroundAsync(_stopping.Token), CancellationToken.None);
    }

    private async Task BackgroundAsync(CancellationToken stopping)
    {
        var snapshotEvery = TimeSpan.FromSeconds(options.Value.VectorSnapshotSeconds);
        var markEvery = TimeSpan.FromSeconds(options.Value.ReplayMarkSeconds);
        var retentionEvery = TimeSpan.FromHours(1);
        var lastRetention = clock.GetUtcNow();
        var lastSnapshot = clock.GetUtcNow();
        while (!stopping.IsCancellationRequested)
        {
            try
            {
                await Task.Delay(markEvery < snapshotEvery ? markEvery : snapshotEvery, clock, stopping).ConfigureAwait(false);
                await eventLog.AdvanceReplayMarkAsync(stopping).ConfigureAwait(false);
                if (clock.GetUtcNow() - lastSnapshot >= snapshotEvery)
                {
                    lastSnapshot = clock.GetUtcNow();
                    vectors.SnapshotIfChanged();
                }
                if (clock.GetUtcNow() - lastRetention >= retentionEvery)
                {
                    lastRetention = clock.GetUtcNow();
                    await eventLog.ApplyRetentionAsync(stopping).ConfigureAwait(false);
                }
            }
            catch (OperationCanceledException) when (stopping.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex)
            {
                logger.LogError(ex, "Memory background maintenance failed; retrying at the next interval");
            }
        }
    }

    /// <summary>
    /// One close for every caller: a stop asked for twice at once (SIGTERM while the host is already stopping) would
    /// otherwise run two closes over one LiteDB file, the second disposing it under the first's last transaction.
    /// </summary>
    public Task StopAsync(CancellationToken cancellationToken)
    {
        var stop = new Lazy<Task>(StopOnceAsync, LazyThreadSafetyMode.ExecutionAndPublication);
        return (Interlocked.CompareExchange(ref _stop, stop, null) ?? stop).Value;
    }

    private async Task StopOnceAsync()
    {
        await _stopping.CancelAsync().ConfigureAwait(false);
        if (_background is not null) await _background.ConfigureAwait(false);
        await writer.StopAsync().ConfigureAwait(false);
        await syncer.StopAsync().ConfigureAwait(false);
        await eventLog.StopAsync().ConfigureAwait(false);
        if (database.IsOpen)
        {
            // Everything queued has committed and LiteDB is closed cleanly next: it holds every message in the log.
            if (writer.Failures == 0 && _replayed)
            {
                database.Db.BeginTrans();
                mark.Write(database.Db, eventLog.End);
                database.Db.Commit();
            }
            vectors.SnapshotIfChanged();
            database.Dispose();
        }
    }

    public ValueTask DisposeAsync()
    {
        _stopping.Dispose();
        return ValueTask.CompletedTask;
    }
}
