using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace MoltBot.Inference.Engines;

/// <summary>"models" (tagged ready): unhealthy until the models are loaded; degraded when some were skipped as broken.</summary>
internal sealed class ModelsHealthCheck(ModelRegistry registry) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken)
    {
        if (!registry.IsLoaded) return Task.FromResult(HealthCheckResult.Unhealthy("models are not loaded yet"));
        var set = registry.Current;
        var data = set.Infos.ToDictionary(i => i.Id, i => (object)$"{i.Precision}{(i.Kernel is null ? "" : "/" + i.Kernel)}");
        return Task.FromResult(set.Problems.Count == 0
            ? HealthCheckResult.Healthy($"{set.Infos.Count} model(s) loaded", data)
            : HealthCheckResult.Degraded("serving without: " + string.Join("; ", set.Problems), data: data));
    }
}
