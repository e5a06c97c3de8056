using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using MoltBot.Contracts.Admin;
using MoltBot.Contracts.Inference;
using MoltBot.Inference.Engines;

namespace MoltBot.Inference;

public static class InferenceModule
{
    /// <summary>Registers the Inference module's services (called by the host's composition root).</summary>
    public static IServiceCollection AddMoltBotInference(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<InferenceOptions>().Bind(configuration.GetSection(InferenceOptions.Section)).ValidateDataAnnotations().ValidateOnStart();
        services.AddSingleton<ModelRegistry>();
        services.AddSingleton<IModelCatalog>(sp => sp.GetRequiredService<ModelRegistry>());
        services.AddSingleton<IModelAdmin>(sp => sp.GetRequiredService<ModelRegistry>());
        services.AddSingleton<ModelAudit>();
        // Models load before the engines start serving.
        services.AddHostedService<InferenceStartup>();
        services.AddSingleton<NluEngine>();
        services.AddSingleton<INluEngine>(sp => sp.GetRequiredService<NluEngine>());
        services.AddSingleton<ISentenceEmbedder>(sp => sp.GetRequiredService<NluEngine>());
        services.AddHostedService(sp => sp.GetRequiredService<NluEngine>());
        services.AddSingleton<ITextGenerator, TextGenerator>();
        services.AddHealthChecks().AddCheck<ModelsHealthCheck>("models", tags: ["ready"]);
        return services;
    }
}
