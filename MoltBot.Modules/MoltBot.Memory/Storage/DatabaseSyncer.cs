using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace MoltBot.Memory.Storage;

/// <summary>
/// fsyncs LiteDB's log every Memory:DatabaseSyncMilliseconds when something was written (see
/// <see cref="DeferredSyncStream"/>): one fsync per interval instead of one per commit. The last one runs when the
/// database closes.
/// </summary>
public sealed class DatabaseSyncer(MemoryDatabase database, IOptions<MemoryOptions> options, TimeProvider clock, ILogger<DatabaseSyncer> logger)
    : IAsyncDisposable
{
    private readonly CancellationTokenSource _stopping = new();
    private Task? _loop;

    /// <summary>fsyncs so far, not counting intervals with nothing to sync (tests and benchmarks).</summary>
    public long Syncs { get; private set; }

    public void Start()
    {
        if (options.Value.DatabaseSyncMilliseconds > 0) _loop ??= Task.Run(() => RunAsync(_stopping.Token));
    }

    /// <summary>fsyncs now (what the loop does each interval): every LiteDB commit finished before the call is then on disk.</summary>
    public void SyncNow()
    {
        if (database.SyncLog()) Syncs++;
    }

    private async Task RunAsync(CancellationToken stopping)
    {
        var interval = TimeSpan.FromMilliseconds(options.Value.DatabaseSyncMilliseconds);
        while (!stopping.IsCancellationRequested)
        {
            try
            {
                await Task.Delay(interval, clock, stopping).ConfigureAwait(false);
                SyncNow();
            }
            catch (OperationCanceledException) when (stopping.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex)
            {
                // The event log still holds every message; the next interval retries.
                logger.LogError(ex, "fsync of the LiteDB log {File} failed; retrying at the next interval", database.LogFilePath);
            }
        }
    }

    public async Task StopAsync()
    {
        await _stopping.CancelAsync().ConfigureAwait(false);
        if (_loop is not null) await _loop.ConfigureAwait(false);
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync().ConfigureAwait(false);
        _stopping.Dispose();
    }
}
