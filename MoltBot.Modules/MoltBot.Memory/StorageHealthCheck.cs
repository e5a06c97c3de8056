using Microsoft.Extensions.Diagnostics.HealthChecks;
using MoltBot.Memory.Storage;

namespace MoltBot.Memory;

/// <summary>Readiness "storage": healthy once the LiteDB file is open.</summary>
internal sealed class StorageHealthCheck(MemoryDatabase database, GroupCommitWriter writer, VectorMemory vectors) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        var data = new Dictionary<string, object>
        {
            ["file"] = database.FilePath,
            ["writeQueue"] = writer.Depth,
            ["vectors"] = vectors.Index?.Count ?? 0,
        };
        return Task.FromResult(database.IsOpen
            ? HealthCheckResult.Healthy("storage open", data)
            : HealthCheckResult.Unhealthy("storage not open", data: data));
    }
}
