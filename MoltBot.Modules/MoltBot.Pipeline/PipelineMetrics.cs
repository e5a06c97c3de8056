using MoltBot.Contracts.Pipeline;
using Prometheus;

namespace MoltBot.Pipeline;

/// <summary>Prometheus metrics of the pipeline: per-stage latency histograms, queue depths, message counters.</summary>
public sealed class PipelineMetrics : IPipelineObserver
{
    private static readonly Histogram StageSeconds = Metrics.CreateHistogram(
        "moltbot_stage_seconds", "Time spent per pipeline stage.",
        new HistogramConfiguration
        {
            LabelNames = ["stage"],
            // 50 µs .. ~3.3 min: skill replies are sub-millisecond, generations take seconds.
            Buckets = Histogram.ExponentialBuckets(0.00005, 2, 23),
        });

    private static readonly Counter Messages = Metrics.CreateCounter(
        "moltbot_messages_total", "Messages that finished the pipeline, by platform.",
        new CounterConfiguration { LabelNames = ["platform"] });

    private static readonly Gauge QueueDepth = Metrics.CreateGauge(
        "moltbot_queue_depth", "Messages waiting per queue.", new GaugeConfiguration { LabelNames = ["queue"] });

    public void OnStage(string platform, string conversationId, string stage, TimeSpan elapsed)
    {
        StageSeconds.WithLabels(stage).Observe(elapsed.TotalSeconds);
        if (stage == Stages.Total) Messages.WithLabels(platform).Inc();
    }

    /// <summary>Reads the queue depths at scrape time.</summary>
    public static void RegisterQueueDepths(MessageQueues queues)
    {
        Metrics.DefaultRegistry.AddBeforeCollectCallback(() =>
        {
            QueueDepth.WithLabels("inbound").Set(queues.Depth);
            QueueDepth.WithLabels("outbound").Set(queues.OutboundDepth);
            int shards = 0;
            for (int i = 0; i < queues.ShardCount; i++) shards += queues.ShardDepth(i);
            QueueDepth.WithLabels("shards").Set(shards);
        });
    }
}
