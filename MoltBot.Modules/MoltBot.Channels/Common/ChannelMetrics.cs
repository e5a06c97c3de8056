using MoltBot.Contracts.Pipeline;
using Prometheus;

namespace MoltBot.Channels.Common;

/// <summary>Prometheus metrics of the channel adapters (state, traffic, retries, outbox depth).</summary>
internal static class ChannelMetrics
{
    public static readonly Gauge State = Metrics.CreateGauge(
        "moltbot_channel_state", "1 for the current connection state of each platform.",
        new GaugeConfiguration { LabelNames = ["platform", "state"] });

    public static readonly Counter Inbound = Metrics.CreateCounter(
        "moltbot_channel_inbound_total", "Inbound platform messages by result (accepted, duplicate, rejected, busy).",
        new CounterConfiguration { LabelNames = ["platform", "result"] });

    public static readonly Counter Outbound = Metrics.CreateCounter(
        "moltbot_channel_outbound_total", "Outbound sends by result (sent, dead_letter).",
        new CounterConfiguration { LabelNames = ["platform", "result"] });

    public static readonly Counter Retries = Metrics.CreateCounter(
        "moltbot_channel_retries_total", "Retried platform requests.", new CounterConfiguration { LabelNames = ["platform"] });

    public static readonly Counter Reconnects = Metrics.CreateCounter(
        "moltbot_channel_reconnects_total", "Connection losses followed by a reconnect.", new CounterConfiguration { LabelNames = ["platform"] });

    public static readonly Gauge OutboxDepth = Metrics.CreateGauge(
        "moltbot_channel_outbox_depth", "Replies waiting in the durable outbox.", new GaugeConfiguration { LabelNames = ["platform"] });

    private static int _registered;

    /// <summary>Reads the adapters' states at scrape time.</summary>
    public static void Register(IEnumerable<ChannelAdapterBase> adapters)
    {
        if (Interlocked.Exchange(ref _registered, 1) == 1) return;
        var list = adapters.ToArray();
        Metrics.DefaultRegistry.AddBeforeCollectCallback(() =>
        {
            foreach (var a in list)
            {
                var current = a.State;
                foreach (var s in Enum.GetValues<ChannelState>())
                {
                    State.WithLabels(a.Platform, s.ToString().ToLowerInvariant()).Set(s == current ? 1 : 0);
                }
                OutboxDepth.WithLabels(a.Platform).Set(a.OutboxDepth);
            }
        });
    }
}
