using Microsoft.Extensions.Options;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using MoltBot.Contracts.Admin;
using MoltBot.Contracts.Inference;
using MoltBot.Contracts.Pipeline;
using MoltBot.Inference.Engines;
using MoltBot.Contracts.Configuration.Validation;

namespace MoltBot.Inference;

public static class InferenceModule
{
    /// <summary>Registers the Inference module's services (called by the host's composition root).</summary>
    public static IServiceCollection AddMoltBotInference(this IServiceCollection services, IConfiguration configuration)
    {
        // Loading libtorch (hundreds of MB of native code) is the longest single step of start-up: begin it now, on
        // the thread pool, so it overlaps with building the host; the model registry's first torch call then finds it
        // loaded. A failure is ignored here: the registry's own first call reports it with the one-line message.
        _ = Task.Run(PreloadNativeLibrary);
        services.AddOptions<InferenceOptions>().Bind(configuration.GetSection(InferenceOptions.Section)).ValidateAnnotationsOnStart<InferenceOptions, InferenceOptionsAnnotations>();
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
        // The first reply sent lets the deferred secondary model loads begin (Inference:SecondaryLoadDelayMs).
        services.AddSingleton<IPipelineObserver, SecondaryLoadsAfterFirstReply>();
        services.AddHealthChecks().AddCheck<ModelsHealthCheck>("models", tags: ["ready"]);
        return services;
    }

    /// <summary>
    /// Begins loading the models now (called by the host right after building the service provider): otherwise the
    /// load starts only when the hosted services start, after every module's services are constructed and the
    /// options validated (≈ 0.4–0.9 s of single-threaded start-up the load can overlap with on the second core).
    /// </summary>
    public static IServiceProvider StartMoltBotInference(this IServiceProvider services)
    {
        services.GetRequiredService<ModelRegistry>().StartLoading();
        return services;
    }

    private static void PreloadNativeLibrary()
    {
        try
        {
            _ = TorchSharp.torch.get_num_threads();
        }
        catch (Exception ex) when (ex is DllNotFoundException or TypeInitializationException or BadImageFormatException)
        {
        }
    }
}
