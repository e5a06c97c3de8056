using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace MoltBot.Inference;

public static class InferenceModule
{
    /// <summary>Registers the Inference module's services (called by the host's composition root).</summary>
    public static IServiceCollection AddMoltBotInference(this IServiceCollection services, IConfiguration configuration)
    {
        return services;
    }
}
