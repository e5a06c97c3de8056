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
        Validated(services.AddOptions<WhatsAppOptions>().Bind(configuration.GetSection(WhatsAppOptions.SectionName)));
        Validated(services.AddOptions<IMessageOptions>().Bind(configuration.GetSection(IMessageOptions.SectionName)));
        Validated(services.AddOptions<TelegramOptions>().Bind(configuration.GetSection(TelegramOptions.SectionName)));
        Validated(services.AddOptions<DiscordOptions>().Bind(configuration.GetSection(DiscordOptions.SectionName)));
        Validated(services.AddOptions<SlackOptions>().Bind(configuration.GetSection(SlackOptions.SectionName)));

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

    // Each Bind above names its options type, so the configuration-binding source generator can write its code (a
    // generic Bind<T> would fall back to reflection at start-up).
    private static void Validated<T>(OptionsBuilder<T> options) where T : ChannelOptions
    {
        options.ValidateOnStart();
        options.Services.AddSingleton<IValidateOptions<T>, ChannelOptionsValidator<T>>();
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
