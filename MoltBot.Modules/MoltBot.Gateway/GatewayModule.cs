using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using MoltBot.Contracts.Configuration;
using MoltBot.Contracts.Messaging;
using MoltBot.Contracts.Pipeline;
using MoltBot.Gateway.Http;
using MoltBot.Gateway.WebChat;
using MoltBot.Gateway.WebSockets;
using MoltBot.Contracts.Configuration.Validation;

namespace MoltBot.Gateway;

public static class GatewayModule
{
    /// <summary>Registers the Gateway module's services (called by the host's composition root).</summary>
    public static IServiceCollection AddMoltBotGateway(this IServiceCollection services, IConfiguration configuration)
    {
        var section = configuration.GetSection(GatewayOptions.Section);
        services.AddOptions<GatewayOptions>()
            .Configure(o =>
            {
                try
                {
                    section.Bind(o);
                }
                catch (InvalidOperationException ex)
                {
                    // e.g. "Gateway:MaxConnections = many": the binder's message names the key.
                    throw new StartupException($"Configuration section 'Gateway': {ex.Message}", ex);
                }
            })
            .ValidateAnnotationsOnStart<GatewayOptions, GatewayOptionsAnnotations>();
        services.AddSingleton<IValidateOptions<GatewayOptions>, GatewayOptionsValidator>();
        services.TryAddSingleton(TimeProvider.System);

        services.AddSingleton<GatewayTokens>();
        services.AddSingleton<ConversationHistory>();
        services.AddSingleton<HistoryReader>();
        services.AddSingleton<SessionRegistry>();
        services.AddSingleton<OutboundRouter>();
        services.AddSingleton<GatewayIntake>();
        services.AddSingleton<HttpSubmission>();
        services.AddSingleton<IChannelAdapter>(sp => new GatewayChannelAdapter(Platforms.Web, sp.GetRequiredService<OutboundRouter>()));
        services.AddSingleton<IChannelAdapter>(sp => new GatewayChannelAdapter(Platforms.Http, sp.GetRequiredService<OutboundRouter>()));
        services.AddHostedService<GatewayBackgroundService>();
        return services;
    }

    /// <summary>Maps the Gateway module's HTTP endpoints: /ws, /v1/*, the web chat page at / and /webchat/*.</summary>
    public static IEndpointRouteBuilder MapMoltBotGateway(this IEndpointRouteBuilder endpoints)
    {
        WebSocketEndpoint.Map(endpoints);
        MessagesEndpoints.Map(endpoints);
        OpenAiEndpoints.Map(endpoints);
        WebChatEndpoints.Map(endpoints);
        return endpoints;
    }
}
