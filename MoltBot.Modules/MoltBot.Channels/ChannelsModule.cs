using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using MoltBot.Channels.Common;
using MoltBot.Channels.Discord;
using MoltBot.Channels.IMessage;
using MoltBot.Channels.Slack;
using MoltBot.Channels.Telegram;
using MoltBot.Channels.WhatsApp;
using MoltBot.Contracts.Admin;
using MoltBot.Contracts.Pipeline;

namespace MoltBot.Channels;

public static class ChannelsModule
{
    /// <summary>Registers the platform adapters, their options (validated at start), health check and admin port.</summary>
    public static IServiceCollection AddMoltBotChannels(this IServiceCollection services, IConfiguration configuration)
    {
        Options<WhatsAppOptions>(services, configuration, WhatsAppOptions.SectionName);
        Options<IMessageOptions>(services, configuration, IMessageOptions.SectionName);
        Options<TelegramOptions>(services, configuration, TelegramOptions.SectionName);
        Options<DiscordOptions>(services, configuration, DiscordOptions.SectionName);
        Options<SlackOptions>(services, configuration, SlackOptions.SectionName);

        Adapter<WhatsAppAdapter>(services);
        Adapter<IMessageAdapter>(services);
        Adapter<TelegramAdapter>(services);
        Adapter<DiscordAdapter>(services);
        Adapter<SlackAdapter>(services);

        services.AddSingleton<ChannelRegistry>();
        services.AddSingleton<IChannelAdmin>(sp => sp.GetRequiredService<ChannelRegistry>());
        services.AddHealthChecks().AddCheck<ChannelsHealthCheck>("channels", tags: ["ready"]);
        services.AddHostedService<ChannelsHostedService>();
        return services;
    }

    private static void Options<T>(IServiceCollection services, IConfiguration configuration, string section) where T : ChannelOptions
    {
        services.AddOptions<T>().Bind(configuration.GetSection(section)).ValidateOnStart();
        services.AddSingleton<IValidateOptions<T>, ChannelOptionsValidator<T>>();
    }

    private static void Adapter<T>(IServiceCollection services) where T : ChannelAdapterBase
    {
        services.AddSingleton<T>();
        services.AddSingleton<ChannelAdapterBase>(sp => sp.GetRequiredService<T>());
        services.AddSingleton<IChannelAdapter>(sp => sp.GetRequiredService<T>());
    }

    /// <summary>Maps the webhook endpoints (404 while the platform is disabled).</summary>
    public static IEndpointRouteBuilder MapMoltBotChannels(this IEndpointRouteBuilder endpoints)
    {
        var group = endpoints.MapGroup("/channels");
        group.MapGet("/whatsapp/webhook", (HttpContext ctx, WhatsAppAdapter a) => a.Verify(ctx));
        group.MapPost("/whatsapp/webhook", (HttpContext ctx, WhatsAppAdapter a) => a.ReceiveAsync(ctx));
        group.MapPost("/imessage/webhook", (HttpContext ctx, IMessageAdapter a) => a.ReceiveAsync(ctx));
        group.MapPost("/telegram/webhook", (HttpContext ctx, TelegramAdapter a) => a.ReceiveAsync(ctx));
        return endpoints;
    }
}
