using Microsoft.Extensions.Diagnostics.HealthChecks;
using MoltBot.Memory.Storage;

namespace MoltBot.Memory;

/// <summary>Readiness "storage": healthy once the LiteDB file and the event log are open.</summary>
internal sealed class StorageHealthCheck(MemoryDatabase database, GroupCommitWriter writer, EventLog eventLog, VectorMemory vectors) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        var data = new Dictionary<string, object>
        {
            ["file"] = database.FilePath,
            ["writeQueue"] = writer.Depth,
            ["eventQueue"] = eventLog.Depth,
            ["events"] = eventLog.Count,
            ["vectors"] = vectors.Index?.Count ?? 0,
        };
        return Task.FromResult(database.IsOpen && eventLog.IsOpen
            ? HealthCheckResult.Healthy("storage open", data)
            : HealthCheckResult.Unhealthy("storage not open", data: data));
    }
}
