using Microsoft.Extensions.Options;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using MoltBot.Contracts.Configuration;
using MoltBot.Contracts.Diagnostics;
using MoltBot.Contracts.Pipeline;
using MoltBot.Pipeline.Tracing;
using MoltBot.Contracts.Configuration.Validation;

namespace MoltBot.Pipeline;

public static class PipelineModule
{
    /// <summary>
    /// Registers the queues, the metrics observer and the pipeline service. Call it after the modules that
    /// register adapters: hosted services stop in reverse order, so the pipeline drains before adapters close.
    /// </summary>
    public static IServiceCollection AddMoltBotPipeline(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<PipelineOptions>().Bind(configuration.GetSection(PipelineOptions.Section)).ValidateAnnotationsOnStart<PipelineOptions, PipelineOptionsAnnotations>();
        services.AddOptions<TraceOptions>().Bind(configuration.GetSection(TraceOptions.Section)).ValidateAnnotationsOnStart<TraceOptions, TraceOptionsAnnotations>();
        services.AddSingleton<JsonlTraceRecorder>();
        services.AddSingleton<ITraceRecorder>(sp => sp.GetRequiredService<JsonlTraceRecorder>());
        services.AddHostedService(sp => sp.GetRequiredService<JsonlTraceRecorder>());
        services.AddSingleton<MessageQueues>();
        services.AddSingleton<IInboundQueue>(sp => sp.GetRequiredService<MessageQueues>());
        services.AddSingleton<IOutboundQueue>(sp => sp.GetRequiredService<MessageQueues>());
        services.AddSingleton(sp => new PendingMessageStore(PipelineDirectory(sp), sp.GetRequiredService<ILogger<PendingMessageStore>>()));
        services.AddSingleton(sp => new UndeliveredStore(PipelineDirectory(sp)));
        services.AddSingleton<IPipelineObserver, PipelineMetrics>();
        services.AddHealthChecks().AddCheck<PipelineHealthCheck>("pipeline", tags: ["ready"]);
        services.AddHostedService(sp =>
        {
            PipelineMetrics.RegisterQueueDepths(sp.GetRequiredService<MessageQueues>());
            return ActivatorUtilities.CreateInstance<PipelineService>(sp);
        });
        return services;
    }

    private static string PipelineDirectory(IServiceProvider sp) =>
        sp.GetRequiredService<MoltBotPaths>().Data("pipeline");
}
