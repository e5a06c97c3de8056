using Microsoft.Extensions.Diagnostics.HealthChecks;
using MoltBot.Contracts.Pipeline;

namespace MoltBot.Channels.Common;

/// <summary>
/// "channels" in /readyz: each platform's state in the data. A platform that is enabled but not connected makes
/// the check Degraded (visible, still ready): one chat platform being down must not take MoltBot out of service.
/// </summary>
internal sealed class ChannelsHealthCheck(ChannelRegistry registry) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        var data = new Dictionary<string, object>();
        var down = new List<string>();
        foreach (var a in registry.Adapters)
        {
            data[a.Platform] = a.State.ToString().ToLowerInvariant();
            if (a.OutboxDepth > 0) data[a.Platform + "_outbox"] = a.OutboxDepth;
            if (a.Enabled && a.State != ChannelState.Connected) down.Add(a.Platform);
        }
        return Task.FromResult(down.Count == 0
            ? HealthCheckResult.Healthy("all enabled platforms connected", data)
            : HealthCheckResult.Degraded("not connected: " + string.Join(", ", down), data: data));
    }
}
