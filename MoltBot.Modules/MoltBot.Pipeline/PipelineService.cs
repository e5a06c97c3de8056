using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using MoltBot.Contracts.Configuration;
using MoltBot.Contracts.Diagnostics;
using MoltBot.Contracts.Messaging;
using MoltBot.Contracts.Pipeline;

namespace MoltBot.Pipeline;

/// <summary>
/// Runs the router, the shard workers and the outbound dispatchers. On shutdown it stops taking new messages,
/// lets the workers finish what is queued within Pipeline:DrainTimeoutSeconds, and persists whatever is left
/// for the next start.
/// </summary>
public sealed class PipelineService(
    MessageQueues queues,
    IMessageHandler handler,
    IEnumerable<IInboundFilter> inboundFilters,
    IEnumerable<IOutboundFilter> outboundFilters,
    IEnumerable<IPipelineObserver> observers,
    IEnumerable<IChannelAdapter> adapters,
    PendingMessageStore pending,
    UndeliveredStore undelivered,
    ITraceRecorder trace,
    IOptions<PipelineOptions> options,
    TimeProvider clock,
    ILogger<PipelineService> logger) : IHostedLifecycleService
{
    private readonly CancellationTokenSource _abortWorkers = new();
    private readonly CancellationTokenSource _abortSenders = new();
    private Task _router = Task.CompletedTask;
    private Task[] _workers = [];
    private Task[] _senders = [];

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        var o = options.Value;
        var observerList = observers.ToArray();
        var adapterMap = new Dictionary<string, IChannelAdapter>(StringComparer.OrdinalIgnoreCase);
        foreach (var a in adapters) adapterMap[a.Platform] = a;

        var filters = inboundFilters.ToArray();
        var timeout = TimeSpan.FromSeconds(o.HandlerTimeoutSeconds);
        _workers = Enumerable.Range(0, queues.ShardCount)
            .Select(i => new ShardWorker(i, queues, handler, filters, observerList, pending, trace, timeout, clock, logger,
                TimeSpan.FromMilliseconds(o.TypingDelayMilliseconds)))
            .Select(w => Task.Run(() => w.RunAsync(_abortWorkers.Token), CancellationToken.None))
            .ToArray();
        var outFilters = outboundFilters.ToArray();
        _senders = Enumerable.Range(0, queues.OutboundLanes.Count)
            .Select(i => new OutboundDispatcher(i, queues, adapterMap, outFilters, observerList, undelivered, logger))
            .Select(d => Task.Run(() => d.RunAsync(_abortSenders.Token), CancellationToken.None))
            .ToArray();
        _router = Task.Run(RouteAsync, CancellationToken.None);

        var restored = await pending.TakeAllAsync(cancellationToken).ConfigureAwait(false);
        foreach (var envelope in restored) await queues.RequeueAsync(envelope, cancellationToken).ConfigureAwait(false);
        pending.CompleteTake();
        if (restored.Count > 0) logger.LogInformation("Re-queued {Count} message(s) persisted at the last shutdown", restored.Count);
        logger.LogInformation("Pipeline started: {Shards} shard workers, inbound capacity {Inbound}, {Lanes} outbound lanes, adapters [{Adapters}]",
            queues.ShardCount, o.InboundCapacity, queues.OutboundLanes.Count, string.Join(", ", adapterMap.Keys));
    }

    /// <summary>Moves each inbound message to the queue of its shard (stable hash of platform + user id).</summary>
    private async Task RouteAsync()
    {
        var reader = queues.InboundReader;
        try
        {
            while (await reader.WaitToReadAsync(_abortWorkers.Token).ConfigureAwait(false))
            {
                while (reader.TryPeek(out var item))
                {
                    int shard = ShardHash.ShardOf(item.Envelope.ShardKey, queues.ShardCount);
                    // Waits while that shard is full: back-pressure reaches the inbound queue, then the adapters.
                    await queues.Shard(shard).Writer.WriteAsync(item, _abortWorkers.Token).ConfigureAwait(false);
                    reader.TryRead(out _);
                }
            }
        }
        catch (OperationCanceledException) when (_abortWorkers.IsCancellationRequested)
        {
        }
        finally
        {
            for (int i = 0; i < queues.ShardCount; i++) queues.Shard(i).Writer.TryComplete();
        }
    }

    public Task StartingAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    public Task StartedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    /// <summary>
    /// Drains in the "stopping" phase, which runs before any hosted service's StopAsync — before Kestrel stops and
    /// before the gateway closes its WebSockets — so replies finished during the drain still reach their clients.
    /// </summary>
    public Task StoppingAsync(CancellationToken cancellationToken) => _drain ??= DrainAsync();

    public Task StopAsync(CancellationToken cancellationToken) => _drain ??= DrainAsync();

    public Task StoppedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    private Task? _drain;

    private async Task DrainAsync()
    {
        var drain = TimeSpan.FromSeconds(options.Value.DrainTimeoutSeconds);
        int queued = queues.Depth + Enumerable.Range(0, queues.ShardCount).Sum(queues.ShardDepth);
        logger.LogInformation("Stopping: draining {Queued} queued message(s), up to {Drain}", queued, drain);
        queues.CloseInbound();

        var workersDone = Task.WhenAll(_workers.Append(_router));
        if (await Task.WhenAny(workersDone, Task.Delay(drain, CancellationToken.None)).ConfigureAwait(false) != workersDone)
        {
            _abortWorkers.Cancel();
            await workersDone.ConfigureAwait(false);
            await PersistLeftoversAsync().ConfigureAwait(false);
        }

        // Every final reply is now in the outbound lanes; give the adapters a bounded time to send them.
        queues.CloseOutbound();
        var sendersDone = Task.WhenAll(_senders);
        var sendBudget = TimeSpan.FromSeconds(Math.Max(2, Math.Min(10, options.Value.DrainTimeoutSeconds)));
        if (await Task.WhenAny(sendersDone, Task.Delay(sendBudget, CancellationToken.None)).ConfigureAwait(false) != sendersDone)
        {
            _abortSenders.Cancel();
            await sendersDone.ConfigureAwait(false);
        }
        logger.LogInformation("Pipeline stopped");
    }

    /// <summary>
    /// Messages persisted for the next start have not been through the inbound filters yet (they run on the shard
    /// worker): run them now, so personal data is masked before it touches the disk. The filters run again at the
    /// next start; masking is idempotent (a token is never detected again).
    /// </summary>
    private async Task<IReadOnlyCollection<Envelope>> MaskForStorageAsync(List<Envelope> envelopes)
    {
        var filters = inboundFilters.ToArray();
        if (filters.Length == 0) return envelopes;
        var result = new List<Envelope>(envelopes.Count);
        using var budget = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        foreach (var original in envelopes)
        {
            Envelope? e = original;
            try
            {
                foreach (var f in filters)
                {
                    e = await f.ApplyAsync(e, budget.Token).ConfigureAwait(false);
                    if (e is null) break;
                }
            }
            catch (Exception ex)
            {
                // Keeping the message beats losing it; say so loudly.
                logger.LogError(ex, "Inbound filter failed while persisting message {MessageId}; kept unfiltered", original.Id);
                e = original;
            }
            if (e is not null) result.Add(e);
        }
        return result;
    }

    private async Task PersistLeftoversAsync()
    {
        var left = new List<Envelope>();
        while (queues.InboundReader.TryRead(out var item)) left.Add(item.Envelope);
        for (int i = 0; i < queues.ShardCount; i++)
        {
            while (queues.Shard(i).Reader.TryRead(out var item)) left.Add(item.Envelope);
        }
        await pending.AppendAsync(await MaskForStorageAsync(left).ConfigureAwait(false), CancellationToken.None).ConfigureAwait(false);
        if (left.Count > 0) logger.LogWarning("Drain time over: persisted {Count} unanswered message(s) to {File}", left.Count, pending.FilePath);
    }
}
