using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace MoltBot.Memory;

public static class MemoryModule
{
    /// <summary>Registers the Memory module's services (called by the host's composition root).</summary>
    public static IServiceCollection AddMoltBotMemory(this IServiceCollection services, IConfiguration configuration)
    {
        return services;
    }
}
