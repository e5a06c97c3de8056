using System.Net;
using System.Text;
using MoltBot.Channels.WhatsApp;
using MoltBot.Contracts.Pipeline;
using MoltBot.DevTools.Sandbox.Platforms;

namespace MoltBot.Tests.Channels;

public class WhatsAppAdapterTests
{
    private static Dictionary<string, string?> Settings(FakeWhatsAppServer fake) => new()
    {
        ["Channels:WhatsApp:Enabled"] = "true",
        ["Channels:WhatsApp:BaseUrl"] = fake.Url,
        ["Channels:WhatsApp:AccessToken"] = FakeWhatsAppServer.DefaultAccessToken,
        ["Channels:WhatsApp:PhoneNumberId"] = FakeWhatsAppServer.DefaultPhoneNumberId,
        ["Channels:WhatsApp:AppSecret"] = FakeWhatsAppServer.DefaultAppSecret,
        ["Channels:WhatsApp:VerifyToken"] = FakeWhatsAppServer.DefaultVerifyToken,
        ["Channels:WhatsApp:RetryBaseDelayMilliseconds"] = "10",
        ["Channels:WhatsApp:MaxRetryAttempts"] = "3",
        ["Channels:WhatsApp:PingIntervalSeconds"] = "1",
    };

    private static long Now => DateTimeOffset.UtcNow.ToUnixTimeSeconds();

    private static Task<HttpResponseMessage> PostAsync(HttpClient client, string body, string? signature)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, "/channels/whatsapp/webhook") { Content = new StringContent(body, Encoding.UTF8, "application/json") };
        if (signature is not null) request.Headers.Add("X-Hub-Signature-256", signature);
        return client.SendAsync(request);
    }

    /// <summary>
    /// Posts a fresh message from <paramref name="from"/> and waits for its reply. One chat's messages are handled and
    /// answered in order, so anything the earlier requests set off (a second handling, a doubled send) is visible once
    /// this reply has arrived: a causal barrier instead of waiting a while of real time.
    /// </summary>
    private static async Task BarrierAsync(HttpClient client, FakeWhatsAppServer fake, string from, string text)
    {
        string body = FakeWhatsAppServer.TextWebhook(from, "wamid.barrier-" + text, text, Now);
        Assert.Equal(HttpStatusCode.OK, (await PostAsync(client, body, FakeWhatsAppServer.Sign(body))).StatusCode);
        await ChannelHarness.WaitUntilAsync(() => fake.Sent.Any(s => s["text"]?["body"]?.GetValue<string>() == "re:" + text), "reply to " + text);
    }

    [Fact]
    public async Task Verification_handshake_echoes_the_challenge_only_for_the_right_token()
    {
        await using var fake = new FakeWhatsAppServer();
        await fake.StartAsync();
        await using var h = await ChannelHarness.StartAsync(Settings(fake));
        using var client = h.CreateClient();

        var ok = await client.GetAsync($"/channels/whatsapp/webhook?hub.mode=subscribe&hub.verify_token={FakeWhatsAppServer.DefaultVerifyToken}&hub.challenge=1158201444");
        Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
        Assert.Equal("1158201444", await ok.Content.ReadAsStringAsync());
        var bad = await client.GetAsync("/channels/whatsapp/webhook?hub.mode=subscribe&hub.verify_token=wrong&hub.challenge=1158201444");
        Assert.Equal(HttpStatusCode.Forbidden, bad.StatusCode);
    }

    [Fact]
    public async Task Bad_or_missing_signature_is_401_and_nothing_is_processed()
    {
        await using var fake = new FakeWhatsAppServer();
        await fake.StartAsync();
        await using var h = await ChannelHarness.StartAsync(Settings(fake));
        using var client = h.CreateClient();
        string body = FakeWhatsAppServer.TextWebhook("4915112345678", "wamid.A", "hello", Now);

        Assert.Equal(HttpStatusCode.Unauthorized, (await PostAsync(client, body, FakeWhatsAppServer.Sign(body, "other-secret"))).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await PostAsync(client, body, null)).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await PostAsync(client, body, "sha256=zz")).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await PostAsync(client, body + " ", FakeWhatsAppServer.Sign(body))).StatusCode); // tampered body
        await BarrierAsync(client, fake, "4915112345678", "after");
        Assert.Equal(["after"], h.Handler.Seen.Select(e => e.Text));
        Assert.Equal(["re:after"], fake.Sent.Select(s => s["text"]!["body"]!.GetValue<string>()));
    }

    [Fact]
    public async Task Signed_message_is_answered_via_POST_messages_as_a_reply_and_a_retry_is_not_answered_twice()
    {
        await using var fake = new FakeWhatsAppServer();
        await fake.StartAsync();
        await using var h = await ChannelHarness.StartAsync(Settings(fake));
        using var client = h.CreateClient();
        string body = FakeWhatsAppServer.TextWebhook("4915112345678", "wamid.A", "*hi* there", Now);

        Assert.Equal(HttpStatusCode.OK, (await PostAsync(client, body, FakeWhatsAppServer.Sign(body))).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await PostAsync(client, body, FakeWhatsAppServer.Sign(body))).StatusCode); // Meta retries
        await ChannelHarness.WaitUntilAsync(() => fake.Sent.Count == 1, "reply");
        await BarrierAsync(client, fake, "4915112345678", "after");

        Assert.Equal(2, fake.Sent.Count); // the retry was not answered: only the barrier's reply followed
        var sent = fake.Sent.First();
        Assert.Equal(FakeWhatsAppServer.DefaultPhoneNumberId, sent["_phone"]!.GetValue<string>());
        Assert.Equal("whatsapp", sent["messaging_product"]!.GetValue<string>());
        Assert.Equal("4915112345678", sent["to"]!.GetValue<string>());
        Assert.Equal("text", sent["type"]!.GetValue<string>());
        Assert.Equal("re:*hi* there", sent["text"]!["body"]!.GetValue<string>()); // **hi** rendered back as WhatsApp bold
        Assert.Equal("wamid.A", sent["context"]!["message_id"]!.GetValue<string>());
        Assert.Equal(["**hi** there", "after"], h.Handler.Seen.Select(e => e.Text));
    }

    [Fact]
    public async Task Status_callbacks_are_recorded_but_never_answered()
    {
        await using var fake = new FakeWhatsAppServer();
        await fake.StartAsync();
        await using var h = await ChannelHarness.StartAsync(Settings(fake));
        using var client = h.CreateClient();
        string body = File.ReadAllText(Path.Combine(GoldenFiles.Directory, "whatsapp", "status.json"));
        Assert.Equal(HttpStatusCode.OK, (await PostAsync(client, body, FakeWhatsAppServer.Sign(body))).StatusCode);
        string recipient = System.Text.Json.Nodes.JsonNode.Parse(body)!["entry"]![0]!["changes"]![0]!["value"]!["statuses"]![0]!["recipient_id"]!.GetValue<string>();
        await BarrierAsync(client, fake, recipient, "after");
        Assert.Equal(["after"], h.Handler.Seen.Select(e => e.Text));
        Assert.Equal(["re:after"], fake.Sent.Select(s => s["text"]!["body"]!.GetValue<string>()));
    }

    [Fact]
    public async Task Outside_the_24_hour_window_free_text_is_refused_and_kept_but_a_configured_template_is_sent()
    {
        await using var fake = new FakeWhatsAppServer();
        await fake.StartAsync();
        long old = DateTimeOffset.UtcNow.AddHours(-25).ToUnixTimeSeconds();
        await using (var h = await ChannelHarness.StartAsync(Settings(fake)))
        {
            using var client = h.CreateClient();
            string body = FakeWhatsAppServer.TextWebhook("4915112345678", "wamid.OLD", "late", old);
            Assert.Equal(HttpStatusCode.OK, (await PostAsync(client, body, FakeWhatsAppServer.Sign(body))).StatusCode);
            string deadLetter = Path.Combine(h.DataDirectory, "channels", "whatsapp-deadletter.jsonl");
            await ChannelHarness.WaitUntilAsync(() => File.Exists(deadLetter) && File.ReadAllText(deadLetter).Contains("24 hours"), "dead-letter entry naming the 24-hour window");
            Assert.Contains("re:late", File.ReadAllText(deadLetter)); // the reply is kept, not lost
            Assert.Empty(fake.Sent);
        }

        var settings = Settings(fake);
        settings["Channels:WhatsApp:WindowTemplateName"] = "moltbot_reply";
        await using (var h = await ChannelHarness.StartAsync(settings))
        {
            using var client = h.CreateClient();
            string body = FakeWhatsAppServer.TextWebhook("4915100000000", "wamid.OLD2", "late", old);
            Assert.Equal(HttpStatusCode.OK, (await PostAsync(client, body, FakeWhatsAppServer.Sign(body))).StatusCode);
            await ChannelHarness.WaitUntilAsync(() => fake.Sent.Count == 1, "template");
            var sent = fake.Sent.Single();
            Assert.Equal("template", sent["type"]!.GetValue<string>());
            Assert.Equal("moltbot_reply", sent["template"]!["name"]!.GetValue<string>());
            Assert.Equal("re:late", sent["template"]!["components"]![0]!["parameters"]![0]!["text"]!.GetValue<string>());
        }
    }

    [Fact]
    public async Task Reply_that_cannot_be_delivered_survives_a_restart_in_the_outbox_and_is_sent_exactly_once()
    {
        await using var fake = new FakeWhatsAppServer { Down = true };
        await fake.StartAsync();
        string root = Directory.CreateTempSubdirectory("moltbot-wa").FullName;
        try
        {
            var h1 = await ChannelHarness.StartAsync(Settings(fake), root);
            using (var client = h1.CreateClient())
            {
                for (int i = 0; i < 3; i++)
                {
                    string body = FakeWhatsAppServer.TextWebhook("4915112345678", "wamid.D" + i, "m" + i, Now);
                    Assert.Equal(HttpStatusCode.OK, (await PostAsync(client, body, FakeWhatsAppServer.Sign(body))).StatusCode);
                }
            }
            await ChannelHarness.WaitUntilAsync(() => fake.RefusedWhileDown >= 4, "attempts while the platform is down");
            await ChannelHarness.WaitUntilAsync(() => h1.Adapter<WhatsAppAdapter>().State == ChannelState.Reconnecting, "ping notices the outage");
            var health = await h1.ChannelsHealthAsync();
            Assert.Equal(Microsoft.Extensions.Diagnostics.HealthChecks.HealthStatus.Degraded, health.Status);
            Assert.Equal("reconnecting", health.Data["whatsapp"]);
            Assert.Equal(3, h1.Adapter<WhatsAppAdapter>().OutboxDepth);
            await h1.StopKeepDataAsync();
            Assert.Empty(fake.Sent);

            fake.Down = false;
            await using var h2 = await ChannelHarness.StartAsync(Settings(fake), root);
            await ChannelHarness.WaitUntilAsync(() => fake.Sent.Count == 3, "outbox delivered after restart");
            using (var client = h2.CreateClient()) await BarrierAsync(client, fake, "4915112345678", "m3");
            Assert.Equal(["re:m0", "re:m1", "re:m2", "re:m3"], fake.Sent.Select(s => s["text"]!["body"]!.GetValue<string>()));
            Assert.Equal(0, h2.Adapter<WhatsAppAdapter>().OutboxDepth);
            Assert.Equal(["m3"], h2.Handler.Seen.Select(e => e.Text)); // m0–m2 answered from the outbox, not handled again
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }
}
