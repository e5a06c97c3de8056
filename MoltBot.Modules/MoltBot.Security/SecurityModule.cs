using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace MoltBot.Security;

public static class SecurityModule
{
    /// <summary>Registers the Security module's services (called by the host's composition root).</summary>
    public static IServiceCollection AddMoltBotSecurity(this IServiceCollection services, IConfiguration configuration)
    {
        return services;
    }

    /// <summary>Maps the Security module's HTTP endpoints.</summary>
    public static IEndpointRouteBuilder MapMoltBotSecurity(this IEndpointRouteBuilder endpoints)
    {
        return endpoints;
    }
}
