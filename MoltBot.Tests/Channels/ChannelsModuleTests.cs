using System.Net;
using System.Text.Json;
using Microsoft.Extensions.Options;
using MoltBot.Channels.Common;
using MoltBot.Channels.Discord;
using MoltBot.Channels.Slack;
using MoltBot.Contracts.Admin;
using MoltBot.Contracts.Messaging;
using MoltBot.Contracts.Pipeline;
using MoltBot.DevTools.Sandbox.Platforms;

namespace MoltBot.Tests.Channels;

public class ChannelsModuleTests
{
    [Fact]
    public async Task Whole_host_reports_channel_states_in_readyz_and_metrics_with_everything_disabled_by_default()
    {
        await using var host = await TestHost.StartAsync();
        using var client = host.CreateClient();
        var ready = await client.GetAsync("/readyz");
        Assert.Equal(HttpStatusCode.OK, ready.StatusCode);
        using var doc = JsonDocument.Parse(await ready.Content.ReadAsStringAsync());
        var channels = doc.RootElement.GetProperty("checks").GetProperty("channels");
        Assert.Equal("Healthy", channels.GetProperty("status").GetString());
        foreach (var p in new[] { "whatsapp", "imessage", "telegram", "discord", "slack" })
        {
            Assert.Equal("disabled", channels.GetProperty("data").GetProperty(p).GetString());
        }
        string metrics = await client.GetStringAsync("/metrics");
        Assert.Contains("moltbot_channel_state{platform=\"slack\",state=\"disabled\"} 1", metrics);
        Assert.Contains("moltbot_channel_outbox_depth", metrics);
        Assert.Equal(404, (int)(await client.PostAsync("/channels/telegram/webhook", new StringContent("{}"))).StatusCode);
    }

    [Theory]
    [InlineData("Channels:Slack:MaxRetryAttempts", "11", "Channels:Slack:MaxRetryAttempts must be between 3 and 10")]
    [InlineData("Channels:Discord:MaxRetryAttempts", "2", "Channels:Discord:MaxRetryAttempts must be between 3 and 10")]
    [InlineData("Channels:Telegram:Mode", "push", "Channels:Telegram:Mode must be \"polling\" or \"webhook\"")]
    [InlineData("Channels:WhatsApp:AppSecret", "", "Channels:WhatsApp:AppSecret is required")]
    [InlineData("Channels:IMessage:BaseUrl", "not a url", "Channels:IMessage:BaseUrl must be an absolute http(s) URL")]
    public async Task Invalid_configuration_fails_at_start_naming_the_key(string key, string value, string message)
    {
        string platform = key.Split(':')[1];
        var settings = new Dictionary<string, string?>
        {
            ["Channels:" + platform + ":Enabled"] = "true",
            ["Channels:WhatsApp:AccessToken"] = "t", ["Channels:WhatsApp:PhoneNumberId"] = "1", ["Channels:WhatsApp:AppSecret"] = "s", ["Channels:WhatsApp:VerifyToken"] = "v",
            ["Channels:IMessage:Password"] = "p", ["Channels:IMessage:WebhookSecret"] = "w",
            ["Channels:Telegram:Token"] = "1:x",
            ["Channels:Discord:Token"] = "d",
            ["Channels:Slack:AppToken"] = "xapp", ["Channels:Slack:BotToken"] = "xoxb",
            [key] = value,
        };
        var ex = await Assert.ThrowsAsync<OptionsValidationException>(() => ChannelHarness.StartAsync(settings));
        Assert.Contains(message, ex.Message);
    }

    [Fact]
    public async Task Admin_port_lists_platforms_and_starts_and_stops_one_at_run_time()
    {
        await using var fake = new FakeDiscordServer { HeartbeatMs = 1000 };
        await fake.StartAsync();
        await using var h = await ChannelHarness.StartAsync(new Dictionary<string, string?>
        {
            ["Channels:Discord:BaseUrl"] = fake.Url + "/api/v10",
            ["Channels:Discord:Token"] = FakeDiscordServer.DefaultToken,
        });
        var admin = h.App.Services.GetServices<IChannelAdmin>().OfType<ChannelRegistry>().Single();
        Assert.All(admin.List(), s => Assert.False(s.Enabled));
        Assert.False(await admin.SetEnabledAsync("matrix", true, CancellationToken.None));

        Assert.True(await admin.SetEnabledAsync("discord", true, CancellationToken.None));
        await ChannelHarness.WaitUntilAsync(() => admin.List().Single(s => s.Platform == "discord").State == "connected", "discord connected");
        Assert.Equal(HealthStatusName.Healthy, (await h.ChannelsHealthAsync()).Status.ToString());

        Assert.True(await admin.SetEnabledAsync("discord", false, CancellationToken.None));
        Assert.Equal(new ChannelStatus("discord", false, "disabled"), admin.List().Single(s => s.Platform == "discord"));
    }

    [Fact]
    public async Task Unreachable_platform_is_degraded_not_unready()
    {
        await using var h = await ChannelHarness.StartAsync(new Dictionary<string, string?>
        {
            ["Channels:Slack:Enabled"] = "true",
            ["Channels:Slack:BaseUrl"] = "http://127.0.0.1:9/api", // discard port: nothing listens
            ["Channels:Slack:AppToken"] = "xapp",
            ["Channels:Slack:BotToken"] = "xoxb",
            ["Channels:Slack:RetryBaseDelayMilliseconds"] = "10",
        });
        await ChannelHarness.WaitUntilAsync(() => h.Adapter<SlackAdapter>().State is ChannelState.Reconnecting or ChannelState.CircuitOpen, "slack reconnecting");
        var entry = await h.ChannelsHealthAsync();
        Assert.Equal(Microsoft.Extensions.Diagnostics.HealthChecks.HealthStatus.Degraded, entry.Status);
        Assert.Contains("slack", entry.Description);
        Assert.Equal("disabled", entry.Data["telegram"]);
    }

    [Fact]
    public async Task Typing_goes_to_the_platform_typing_action()
    {
        await using var fake = new FakeDiscordServer { HeartbeatMs = 1000 };
        await fake.StartAsync();
        await using var h = await ChannelHarness.StartAsync(new Dictionary<string, string?>
        {
            ["Channels:Discord:Enabled"] = "true",
            ["Channels:Discord:BaseUrl"] = fake.Url + "/api/v10",
            ["Channels:Discord:Token"] = FakeDiscordServer.DefaultToken,
        });
        var adapter = h.Adapter<DiscordAdapter>();
        await adapter.SendAsync(new OutboundMessage { Kind = OutboundKind.Typing, Platform = Platforms.Discord, ConversationId = "C1", UserId = "U1", InReplyTo = "x" }, CancellationToken.None);
        // Deltas are ignored by a platform that cannot stream; nothing is posted for them.
        await adapter.SendAsync(new OutboundMessage { Kind = OutboundKind.Delta, Platform = Platforms.Discord, ConversationId = "C1", UserId = "U1", InReplyTo = "x", Text = "par" }, CancellationToken.None);
        Assert.Equal(1, fake.Typing);
        Assert.Empty(fake.Messages);
    }

    private static class HealthStatusName
    {
        public const string Healthy = "Healthy";
    }
}
