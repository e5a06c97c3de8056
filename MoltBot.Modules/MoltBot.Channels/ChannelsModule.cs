using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace MoltBot.Channels;

public static class ChannelsModule
{
    /// <summary>Registers the Channels module's services (called by the host's composition root).</summary>
    public static IServiceCollection AddMoltBotChannels(this IServiceCollection services, IConfiguration configuration)
    {
        return services;
    }

    /// <summary>Maps the Channels module's HTTP endpoints.</summary>
    public static IEndpointRouteBuilder MapMoltBotChannels(this IEndpointRouteBuilder endpoints)
    {
        return endpoints;
    }
}
