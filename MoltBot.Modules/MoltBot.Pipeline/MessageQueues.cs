using System.Threading.Channels;
using Microsoft.Extensions.Options;
using MoltBot.Contracts.Configuration;
using MoltBot.Contracts.Messaging;
using MoltBot.Contracts.Pipeline;

namespace MoltBot.Pipeline;

/// <summary>
/// The bounded channels of the pipeline: one inbound queue, one queue per shard worker and one lane per outbound
/// sender. Every writer waits when its channel is full (back-pressure); nothing is dropped.
/// </summary>
public sealed class MessageQueues : IInboundQueue, IOutboundQueue
{
    private readonly Channel<QueuedEnvelope> _inbound;
    private readonly Channel<QueuedEnvelope>[] _shards;
    private readonly Channel<QueuedOutbound>[] _outboundLanes;
    private readonly PlatformMessageDeduplicator _dedup;
    private volatile bool _closed;

    public MessageQueues(IOptions<PipelineOptions> options)
    {
        var o = options.Value;
        _inbound = Channel.CreateBounded<QueuedEnvelope>(new BoundedChannelOptions(o.InboundCapacity)
        {
            FullMode = BoundedChannelFullMode.Wait,
            SingleReader = true,
        });
        _shards = new Channel<QueuedEnvelope>[o.ShardCount];
        for (int i = 0; i < _shards.Length; i++)
        {
            _shards[i] = Channel.CreateBounded<QueuedEnvelope>(new BoundedChannelOptions(o.ShardCapacity)
            {
                FullMode = BoundedChannelFullMode.Wait,
                SingleReader = true, // written by the router and by producers that bypass it (TryRouteDirect)
            });
        }
        _outboundLanes = new Channel<QueuedOutbound>[o.OutboundSenders];
        for (int i = 0; i < _outboundLanes.Length; i++)
        {
            _outboundLanes[i] = Channel.CreateBounded<QueuedOutbound>(new BoundedChannelOptions(o.OutboundCapacity)
            {
                FullMode = BoundedChannelFullMode.Wait,
                SingleReader = true,
            });
        }
        _dedup = new PlatformMessageDeduplicator(o.DedupWindow);
    }

    public int Depth => _inbound.Reader.Count;
    int IOutboundQueue.Depth => OutboundDepth;
    public int OutboundDepth => _outboundLanes.Sum(l => l.Reader.Count);
    public int ShardDepth(int shard) => _shards[shard].Reader.Count;
    public int ShardCount => _shards.Length;
    public bool IsClosed => _closed;

    internal ChannelReader<QueuedEnvelope> InboundReader => _inbound.Reader;
    internal Channel<QueuedEnvelope> Shard(int i) => _shards[i];
    internal IReadOnlyList<Channel<QueuedOutbound>> OutboundLanes => _outboundLanes;

    public async ValueTask EnqueueAsync(Envelope envelope, CancellationToken cancellationToken)
    {
        if (_closed) throw new PipelineClosedException();
        if (!_dedup.TryRemember(envelope)) return; // already accepted once: the first copy gets the reply
        try
        {
            var item = QueuedEnvelope.Now(envelope);
            if (TryRouteDirect(item)) return;
            await _inbound.Writer.WriteAsync(item, cancellationToken).ConfigureAwait(false);
        }
        catch (ChannelClosedException)
        {
            _dedup.Forget(envelope);
            throw new PipelineClosedException();
        }
        catch (OperationCanceledException)
        {
            _dedup.Forget(envelope);
            throw;
        }
    }

    public EnqueueResult TryEnqueue(Envelope envelope)
    {
        if (_closed) return EnqueueResult.Closed;
        if (!_dedup.TryRemember(envelope)) return EnqueueResult.Duplicate;
        var item = QueuedEnvelope.Now(envelope);
        if (TryRouteDirect(item) || _inbound.Writer.TryWrite(item)) return EnqueueResult.Accepted;
        _dedup.Forget(envelope);
        return _closed ? EnqueueResult.Closed : EnqueueResult.Full;
    }

    /// <summary>
    /// With nothing in the inbound queue, puts the message straight into its shard's queue if it has room: one thread
    /// hand-off (to the router) less at light load. Order per user holds: a user's earlier message is either still in
    /// the inbound queue (counted there, so this one follows it through the router), held by the router (still counted
    /// until written to its shard), or already in the shard queue ahead of this one. Under load, or with the shard
    /// full, the message goes through the inbound queue and the router's back-pressure as before.
    /// </summary>
    private bool TryRouteDirect(QueuedEnvelope item)
    {
        if (_inbound.Reader.Count != 0 || !_shards[ShardHash.ShardOf(item.Envelope.ShardKey, _shards.Length)].Writer.TryWrite(item)) return false;
        Interlocked.Increment(ref _directRouted);
        return true;
    }

    private long _directRouted;

    /// <summary>Messages that went straight to their shard, bypassing the router (diagnostics and tests).</summary>
    public long DirectRouted => Interlocked.Read(ref _directRouted);

    /// <summary>Re-queues a message persisted at the last shutdown; skips de-duplication (it was accepted before).</summary>
    internal ValueTask RequeueAsync(Envelope envelope, CancellationToken cancellationToken)
    {
        _dedup.TryRemember(envelope);
        return _inbound.Writer.WriteAsync(QueuedEnvelope.Now(envelope), cancellationToken);
    }

    public ValueTask EnqueueAsync(OutboundMessage message, CancellationToken cancellationToken) =>
        EnqueueOutboundAsync(message, inboundTimestamp: 0, cancellationToken);

    internal ValueTask EnqueueOutboundAsync(OutboundMessage message, long inboundTimestamp, CancellationToken cancellationToken)
    {
        // One conversation always uses the same lane, so its typing/delta/final events stay in order.
        int lane = ShardHash.ShardOf(message.Platform + ":" + message.ConversationId, _outboundLanes.Length);
        var item = new QueuedOutbound(message, System.Diagnostics.Stopwatch.GetTimestamp(), inboundTimestamp);
        return _outboundLanes[lane].Writer.WriteAsync(item, cancellationToken);
    }

    /// <summary>Stops accepting inbound messages; what is queued is still processed.</summary>
    internal void CloseInbound()
    {
        _closed = true;
        _inbound.Writer.TryComplete();
    }

    internal void CloseOutbound()
    {
        foreach (var lane in _outboundLanes) lane.Writer.TryComplete();
    }
}
