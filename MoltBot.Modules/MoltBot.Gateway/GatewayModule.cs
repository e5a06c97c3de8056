using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace MoltBot.Gateway;

public static class GatewayModule
{
    /// <summary>Registers the Gateway module's services (called by the host's composition root).</summary>
    public static IServiceCollection AddMoltBotGateway(this IServiceCollection services, IConfiguration configuration)
    {
        return services;
    }

    /// <summary>Maps the Gateway module's HTTP endpoints.</summary>
    public static IEndpointRouteBuilder MapMoltBotGateway(this IEndpointRouteBuilder endpoints)
    {
        return endpoints;
    }
}
