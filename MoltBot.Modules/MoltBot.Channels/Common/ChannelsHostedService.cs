using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using MoltBot.Channels.Discord;
using MoltBot.Channels.IMessage;
using MoltBot.Channels.Slack;
using MoltBot.Channels.Telegram;
using MoltBot.Channels.WhatsApp;

namespace MoltBot.Channels.Common;

/// <summary>
/// Starts the platforms enabled in configuration and stops all of them at shutdown. Registered before the
/// pipeline, so it stops after the pipeline has drained and flushed its replies into the outboxes.
/// </summary>
internal sealed class ChannelsHostedService(
    ChannelRegistry registry,
    IOptions<WhatsAppOptions> whatsApp,
    IOptions<IMessageOptions> iMessage,
    IOptions<TelegramOptions> telegram,
    IOptions<DiscordOptions> discord,
    IOptions<SlackOptions> slack,
    ILogger<ChannelsHostedService> logger) : IHostedService
{
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        ChannelMetrics.Register(registry.Adapters);
        var enabled = new Dictionary<string, bool>(StringComparer.OrdinalIgnoreCase)
        {
            [MoltBot.Contracts.Messaging.Platforms.WhatsApp] = whatsApp.Value.Enabled,
            [MoltBot.Contracts.Messaging.Platforms.IMessage] = iMessage.Value.Enabled,
            [MoltBot.Contracts.Messaging.Platforms.Telegram] = telegram.Value.Enabled,
            [MoltBot.Contracts.Messaging.Platforms.Discord] = discord.Value.Enabled,
            [MoltBot.Contracts.Messaging.Platforms.Slack] = slack.Value.Enabled,
        };
        foreach (var adapter in registry.Adapters)
        {
            if (enabled.GetValueOrDefault(adapter.Platform)) await adapter.StartAsync(cancellationToken).ConfigureAwait(false);
        }
        logger.LogInformation("Channels: enabled [{Platforms}]", string.Join(", ", registry.Adapters.Where(a => a.Enabled).Select(a => a.Platform)));
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        foreach (var adapter in registry.Adapters) await adapter.StopAsync(cancellationToken).ConfigureAwait(false);
    }
}
