using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using MoltBot.Memory.Storage;

namespace MoltBot.Memory;

/// <summary>
/// Opens storage at start (a corrupt or locked file stops start-up with a StartupException naming it), starts the
/// group-commit writer, reconciles the vector index, and runs retention and index snapshots in the background. At
/// stop it commits every queued write and snapshots the index.
/// </summary>
internal sealed class MemoryService(
    MemoryDatabase database, GroupCommitWriter writer, DatabaseSyncer syncer, VectorMemory vectors, EventLog eventLog, IOptions<MemoryOptions> options,
    TimeProvider clock, ILogger<MemoryService> logger) : IHostedService, IAsyncDisposable
{
    private readonly CancellationTokenSource _stopping = new();
    private Task? _background;

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
        int restored = MessageRestorer.Restore(database, eventLog);
        if (restored > 0) logger.LogWarning("Restored {Count} messages from the event log that LiteDB had lost (power loss before its log was fsynced)", restored);
        writer.Start();
        syncer.Start();
        var (added, removed) = await Task.Run(vectors.Load, cancellationToken).ConfigureAwait(false);
        logger.LogInformation("Vector recall ready: {Count} vectors ({Added} replayed, {Removed} removed since the last snapshot)",
            vectors.Index?.Count ?? 0, added, removed);
        await eventLog.ApplyRetentionAsync(cancellationToken).ConfigureAwait(false);
        _background = Task.Run(() => BackgroundAsync(_stopping.Token), CancellationToken.None);
    }

    private async Task BackgroundAsync(CancellationToken stopping)
    {
        var snapshotEvery = TimeSpan.FromSeconds(options.Value.VectorSnapshotSeconds);
        var retentionEvery = TimeSpan.FromHours(1);
        var lastRetention = clock.GetUtcNow();
        while (!stopping.IsCancellationRequested)
        {
            try
            {
                await Task.Delay(snapshotEvery, clock, stopping).ConfigureAwait(false);
                vectors.SnapshotIfChanged();
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

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        await _stopping.CancelAsync().ConfigureAwait(false);
        if (_background is not null) await _background.ConfigureAwait(false);
        await writer.StopAsync().ConfigureAwait(false);
        await syncer.StopAsync().ConfigureAwait(false);
        await eventLog.StopAsync().ConfigureAwait(false);
        if (database.IsOpen)
        {
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
