using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace MoltBot.Pipeline;

/// <summary>Ready while the pipeline accepts messages; reports queue depths.</summary>
internal sealed class PipelineHealthCheck(MessageQueues queues) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        var data = new Dictionary<string, object>
        {
            ["inbound"] = queues.Depth,
            ["outbound"] = queues.OutboundDepth,
            ["shards"] = queues.ShardCount,
        };
        return Task.FromResult(queues.IsClosed
            ? HealthCheckResult.Unhealthy("shutting down", data: data)
            : HealthCheckResult.Healthy("accepting messages", data));
    }
}
