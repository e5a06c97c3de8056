using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace MoltBot.Inference.Engines;

/// <summary>
/// "models" (tagged ready): unhealthy while models are loading (naming those still loading, and those already
/// serving) or when loading failed; degraded when some were skipped as broken; healthy when all are loaded.
/// </summary>
internal sealed class ModelsHealthCheck(ModelRegistry registry) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken)
    {
        var set = registry.Current;
        var data = set.Infos.ToDictionary(i => i.Id, i => (object)$"{i.Precision}{(i.Kernel is null ? "" : "/" + i.Kernel)}");
        if (registry.Loaded.IsFaulted)
            return Task.FromResult(HealthCheckResult.Unhealthy("models failed to load: " + registry.Loaded.Exception!.InnerException!.Message));
        if (!registry.IsLoaded)
        {
            string serving = set.Infos.Count == 0 ? "none yet" : string.Join(", ", set.Infos.Select(i => i.Id));
            return Task.FromResult(HealthCheckResult.Unhealthy(
                $"models are loading: {string.Join(", ", registry.Pending)} (serving: {serving})", data: data));
        }
        return Task.FromResult(set.Problems.Count == 0
            ? HealthCheckResult.Healthy($"{set.Infos.Count} model(s) loaded", data)
            : HealthCheckResult.Degraded("serving without: " + string.Join("; ", set.Problems), data: data));
    }
}
