using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using MoltBot.Channels.Telegram;
using MoltBot.Contracts.Messaging;
using MoltBot.Contracts.Pipeline;
using MoltBot.DevTools.Sandbox.Platforms;

namespace MoltBot.Tests.Channels;

public class TelegramAdapterTests
{
    private static Dictionary<string, string?> Polling(FakeTelegramServer fake) => new()
    {
        ["Channels:Telegram:Enabled"] = "true",
        ["Channels:Telegram:BaseUrl"] = fake.Url,
        ["Channels:Telegram:Token"] = FakeTelegramServer.DefaultToken,
        ["Channels:Telegram:PollTimeoutSeconds"] = "1",
        ["Channels:Telegram:RetryBaseDelayMilliseconds"] = "10",
    };

    /// <summary>
    /// Queues a fresh update in chat 42 and waits for its reply. One chat's updates are handled and answered in order,
    /// so anything the earlier updates set off (a second handling, a doubled send) has shown by the time this reply
    /// arrives: a causal barrier instead of waiting a while of real time.
    /// </summary>
    private static Task BarrierAsync(FakeTelegramServer fake, int updateId, string text)
    {
        fake.AddUpdate(FakeTelegramServer.TextUpdate(updateId, 42, 7, text, 1000 + updateId));
        return ChannelHarness.WaitUntilAsync(() => fake.Sent.Any(s => s["text"]?.GetValue<string>() == "re:" + text), "reply to " + text);
    }

    [Fact]
    public async Task Long_polling_command_is_normalized_and_answered_with_sendMessage_reply()
    {
        await using var fake = new FakeTelegramServer();
        await fake.StartAsync();
        await using var h = await ChannelHarness.StartAsync(Polling(fake));
        var entities = new JsonArray(new JsonObject { ["type"] = "bot_command", ["offset"] = 0, ["length"] = 14 });
        fake.AddUpdate(FakeTelegramServer.TextUpdate(1, 42, 7, "/start@moltbot now", 11, entities));
        await ChannelHarness.WaitUntilAsync(() => fake.Sent.Count == 1, "sendMessage");

        var seen = h.Handler.Seen.Single();
        Assert.Equal(MessageType.Command, seen.Type);
        Assert.Equal("/start now", seen.Text);
        var sent = fake.Sent.Single();
        Assert.Equal(42, sent["chat_id"]!.GetValue<long>());
        Assert.Equal("re:/start now", sent["text"]!.GetValue<string>());
        Assert.Equal("HTML", sent["parse_mode"]!.GetValue<string>(), ignoreCase: true);
        Assert.Equal(11, sent["reply_parameters"]!["message_id"]!.GetValue<int>());
        Assert.Equal(ChannelState.Connected, h.Adapter<TelegramAdapter>().State);
    }

    /// <summary>
    /// The retry/circuit-breaker pipeline is built when a platform first polls or sends, not when the host starts: the
    /// disabled platforms never build theirs (start-up cost), the enabled one still polls and answers through it.
    /// </summary>
    [Fact]
    public async Task Only_a_platform_that_polls_or_sends_builds_its_resilience_pipeline()
    {
        await using var fake = new FakeTelegramServer();
        await fake.StartAsync();
        await using var h = await ChannelHarness.StartAsync(Polling(fake));
        fake.AddUpdate(FakeTelegramServer.TextUpdate(1, 42, 7, "hello", 11));
        await ChannelHarness.WaitUntilAsync(() => fake.Sent.Count == 1, "sendMessage");

        Assert.True(h.Adapter<TelegramAdapter>().ResilienceBuilt);
        Assert.False(h.Adapter<MoltBot.Channels.WhatsApp.WhatsAppAdapter>().ResilienceBuilt);
        Assert.False(h.Adapter<MoltBot.Channels.Slack.SlackAdapter>().ResilienceBuilt);
        Assert.False(h.Adapter<MoltBot.Channels.Discord.DiscordAdapter>().ResilienceBuilt);
    }

    [Fact]
    public async Task Offset_is_persisted_so_a_restart_processes_no_update_twice()
    {
        await using var fake = new FakeTelegramServer();
        await fake.StartAsync();
        string root = Directory.CreateTempSubdirectory("moltbot-tg").FullName;
        try
        {
            var h1 = await ChannelHarness.StartAsync(Polling(fake), root);
            for (int i = 1; i <= 3; i++) fake.AddUpdate(FakeTelegramServer.TextUpdate(i, 42, 7, "m" + i, 100 + i));
            await ChannelHarness.WaitUntilAsync(() => fake.Sent.Count == 3, "three replies");
            await h1.StopKeepDataAsync();
            Assert.Equal("4", File.ReadAllText(Path.Combine(root, "data", "channels", "telegram-offset.txt")));

            int pollsBefore = fake.PollOffsets.Count;
            await using var h2 = await ChannelHarness.StartAsync(Polling(fake), root);
            await ChannelHarness.WaitUntilAsync(() => fake.PollOffsets.Count > pollsBefore, "first poll after restart");
            Assert.Equal(4, fake.PollOffsets.Skip(pollsBefore).First());
            fake.AddUpdate(FakeTelegramServer.TextUpdate(4, 42, 7, "m4", 104));
            await ChannelHarness.WaitUntilAsync(() => fake.Sent.Count == 4, "reply to the new update");
            await BarrierAsync(fake, 5, "m5");

            Assert.Equal(["re:m1", "re:m2", "re:m3", "re:m4", "re:m5"], fake.Sent.Select(s => s["text"]!.GetValue<string>()));
            Assert.Equal(["m4", "m5"], h2.Handler.Seen.Select(e => e.Text));
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }

    [Fact]
    public async Task Webhook_checks_the_secret_token_and_ignores_a_retried_update()
    {
        await using var fake = new FakeTelegramServer();
        await fake.StartAsync();
        var settings = Polling(fake);
        settings["Channels:Telegram:Mode"] = "webhook";
        settings["Channels:Telegram:WebhookSecret"] = "s3cret";
        await using var h = await ChannelHarness.StartAsync(settings);
        using var client = h.CreateClient();
        string update = FakeTelegramServer.TextUpdate(9, 42, 7, "via hook", 55).ToJsonString();

        var wrong = new HttpRequestMessage(HttpMethod.Post, "/channels/telegram/webhook") { Content = new StringContent(update, Encoding.UTF8, "application/json") };
        wrong.Headers.Add("X-Telegram-Bot-Api-Secret-Token", "guess");
        Assert.Equal(HttpStatusCode.Unauthorized, (await client.SendAsync(wrong)).StatusCode);
        var missing = new HttpRequestMessage(HttpMethod.Post, "/channels/telegram/webhook") { Content = new StringContent(update, Encoding.UTF8, "application/json") };
        Assert.Equal(HttpStatusCode.Unauthorized, (await client.SendAsync(missing)).StatusCode);

        for (int attempt = 0; attempt < 2; attempt++)
        {
            var ok = new HttpRequestMessage(HttpMethod.Post, "/channels/telegram/webhook") { Content = new StringContent(update, Encoding.UTF8, "application/json") };
            ok.Headers.Add("X-Telegram-Bot-Api-Secret-Token", "s3cret");
            Assert.Equal(HttpStatusCode.OK, (await client.SendAsync(ok)).StatusCode);
        }
        await ChannelHarness.WaitUntilAsync(() => fake.Sent.Count == 1, "reply");
        // Barrier: a new update through the same webhook; the retried one, had it been let through, is handled first.
        var next = new HttpRequestMessage(HttpMethod.Post, "/channels/telegram/webhook") { Content = new StringContent(FakeTelegramServer.TextUpdate(10, 42, 7, "after", 56).ToJsonString(), Encoding.UTF8, "application/json") };
        next.Headers.Add("X-Telegram-Bot-Api-Secret-Token", "s3cret");
        Assert.Equal(HttpStatusCode.OK, (await client.SendAsync(next)).StatusCode);
        await ChannelHarness.WaitUntilAsync(() => fake.Sent.Count >= 2, "reply to the barrier update");
        Assert.Equal(["re:via hook", "re:after"], fake.Sent.Select(s => s["text"]!.GetValue<string>()));
        Assert.Equal(["via hook", "after"], h.Handler.Seen.Select(e => e.Text));
        Assert.Empty(fake.PollOffsets); // webhook mode never polls
    }

    [Fact]
    public async Task Too_many_requests_waits_retry_after_then_sends_once()
    {
        await using var fake = new FakeTelegramServer { RateLimitNextSends = 1 };
        await fake.StartAsync();
        await using var h = await ChannelHarness.StartAsync(Polling(fake));
        fake.AddUpdate(FakeTelegramServer.TextUpdate(1, 42, 7, "hi", 11));
        await ChannelHarness.WaitUntilAsync(() => fake.Sent.Count == 1, "reply after 429");
        await BarrierAsync(fake, 2, "after");
        Assert.Equal(["re:hi", "re:after"], fake.Sent.Select(s => s["text"]!.GetValue<string>())); // "hi" was sent once
        Assert.True(fake.SentAfterRateLimitAt!.Value - fake.RateLimitedAt!.Value >= TimeSpan.FromMilliseconds(900));
    }

    [Fact]
    public async Task Streamed_reply_is_one_message_edited_into_the_final_text_after_a_typing_action()
    {
        await using var fake = new FakeTelegramServer();
        await fake.StartAsync();
        await using var h = await ChannelHarness.StartAsync(Polling(fake), handler: new EchoHandler { Stream = true });
        fake.AddUpdate(FakeTelegramServer.TextUpdate(1, 42, 7, "stream **me**", 11));
        await ChannelHarness.WaitUntilAsync(() => fake.Edits.Any(e => e["text"]!.GetValue<string>() == "re:stream <b>me</b>"), "final edit");
        // Barrier: a second streamed message in the same chat; whatever the first one set off has shown before its edit.
        fake.AddUpdate(FakeTelegramServer.TextUpdate(2, 42, 7, "after", 12));
        await ChannelHarness.WaitUntilAsync(() => fake.Edits.Any(e => e["text"]!.GetValue<string>() == "re:after"), "the barrier's final edit");

        Assert.Equal(2, fake.ChatActions); // one typing action per message
        // Each message: the first delta opened it ("re:"), the rest were edits; nothing else was sent.
        Assert.Equal(["re:", "re:"], fake.Sent.Select(s => s["text"]!.GetValue<string>()));
        var final = Assert.Single(fake.Edits, e => e["text"]!.GetValue<string>() == "re:stream <b>me</b>");
        Assert.Equal("HTML", final["parse_mode"]!.GetValue<string>(), ignoreCase: true);
        Assert.Equal(42, final["chat_id"]!.GetValue<long>());
    }
}
