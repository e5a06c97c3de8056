using System.Net;
using System.Text;
using MoltBot.Channels.IMessage;
using MoltBot.Contracts.Pipeline;
using MoltBot.DevTools.Sandbox.Platforms;

namespace MoltBot.Tests.Channels;

public class IMessageAdapterTests
{
    private static Dictionary<string, string?> Settings(FakeBlueBubblesServer fake) => new()
    {
        ["Channels:IMessage:Enabled"] = "true",
        ["Channels:IMessage:BaseUrl"] = fake.Url,
        ["Channels:IMessage:Password"] = FakeBlueBubblesServer.DefaultPassword,
        ["Channels:IMessage:WebhookSecret"] = "hook-secret",
        ["Channels:IMessage:RetryBaseDelayMilliseconds"] = "10",
    };

    private static Task<HttpResponseMessage> PostAsync(HttpClient client, string body, string secret) =>
        client.PostAsync("/channels/imessage/webhook?secret=" + secret, new StringContent(body, Encoding.UTF8, "application/json"));

    [Fact]
    public async Task New_message_webhook_is_answered_through_the_REST_API_with_the_server_password()
    {
        await using var fake = new FakeBlueBubblesServer();
        await fake.StartAsync();
        await using var h = await ChannelHarness.StartAsync(Settings(fake));
        using var client = h.CreateClient();
        await ChannelHarness.WaitUntilAsync(() => h.Adapter<IMessageAdapter>().State == ChannelState.Connected, "ping");

        string body = FakeBlueBubblesServer.NewMessage("MSG-1", "iMessage;-;+15551234567", "+15551234567", "hello", 1700000000000);
        Assert.Equal(HttpStatusCode.OK, (await PostAsync(client, body, "hook-secret")).StatusCode);
        await ChannelHarness.WaitUntilAsync(() => fake.Sent.Count == 1, "reply");

        var sent = fake.Sent.Single();
        Assert.Equal("iMessage;-;+15551234567", sent["chatGuid"]!.GetValue<string>());
        Assert.Equal("re:hello", sent["message"]!.GetValue<string>());
        Assert.Equal("apple-script", sent["method"]!.GetValue<string>());
        Assert.StartsWith("moltbot-", sent["tempGuid"]!.GetValue<string>());
        Assert.Equal(0, fake.WrongPassword);
    }

    [Fact]
    public async Task Webhook_without_the_secret_is_401_and_our_own_echoes_are_ignored()
    {
        await using var fake = new FakeBlueBubblesServer();
        await fake.StartAsync();
        await using var h = await ChannelHarness.StartAsync(Settings(fake));
        using var client = h.CreateClient();
        string body = FakeBlueBubblesServer.NewMessage("MSG-1", "iMessage;-;+1555", "+1555", "hello", 1700000000000);
        Assert.Equal(HttpStatusCode.Unauthorized, (await PostAsync(client, body, "wrong")).StatusCode);
        string echo = FakeBlueBubblesServer.NewMessage("MSG-2", "iMessage;-;+1555", "+1555", "re:hello", 1700000000000, fromMe: true);
        Assert.Equal(HttpStatusCode.OK, (await PostAsync(client, echo, "hook-secret")).StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await PostAsync(client, "{\"type\":\"new-message\",\"data\":{}}", "hook-secret")).StatusCode);

        // A causal barrier instead of a real-time wait: one chat's messages are handled and answered in order, so had
        // any request above been let through, it would be seen and answered before this one.
        Assert.Equal(HttpStatusCode.OK, (await PostAsync(client, FakeBlueBubblesServer.NewMessage("MSG-3", "iMessage;-;+1555", "+1555", "after", 1700000000001), "hook-secret")).StatusCode);
        await ChannelHarness.WaitUntilAsync(() => fake.Sent.Count >= 1, "reply to the barrier message");
        Assert.Equal(["after"], h.Handler.Seen.Select(e => e.Text));
        Assert.Equal(["re:after"], fake.Sent.Select(s => s["message"]!.GetValue<string>()));
    }

    [Fact]
    public async Task Full_inbound_queue_answers_503_with_Retry_After_and_the_platform_retry_is_answered()
    {
        await using var fake = new FakeBlueBubblesServer();
        await fake.StartAsync();
        var settings = Settings(fake);
        settings["Pipeline:ShardCount"] = "1";
        settings["Pipeline:ShardCapacity"] = "1";
        settings["Pipeline:InboundCapacity"] = "1";
        using var gate = new SemaphoreSlim(0);
        await using var h = await ChannelHarness.StartAsync(settings, handler: new EchoHandler { Gate = gate });
        using var client = h.CreateClient();
        string Msg(int i) => FakeBlueBubblesServer.NewMessage("MSG-" + i, "iMessage;-;+1555", "+1555", "m" + i, 1700000000000 + i);

        // The worker holds m0, the shard queue m1, the router m2 (still counted in the bounded inbound queue). Each
        // post waits until its message has reached that place, so the next one meets the queues as described.
        var queues = h.App.Services.GetRequiredService<MoltBot.Pipeline.MessageQueues>();
        bool Settled(int i) => i switch
        {
            0 => h.Handler.Seen.Count == 1,
            1 => queues.ShardDepth(0) == 1 && queues.Depth == 0,
            _ => queues.Depth == 1,
        };
        HttpResponseMessage? refused = null;
        int accepted = 0;
        for (; accepted < 10; accepted++)
        {
            var r = await PostAsync(client, Msg(accepted), "hook-secret");
            if (r.StatusCode == HttpStatusCode.ServiceUnavailable)
            {
                refused = r;
                break;
            }
            Assert.Equal(HttpStatusCode.OK, r.StatusCode);
            await ChannelHarness.WaitUntilAsync(() => Settled(accepted), $"m{accepted} in its place");
        }
        Assert.NotNull(refused);
        Assert.Equal(3, accepted); // bounded: worker + shard queue + inbound queue, then refusal
        Assert.True(refused!.Headers.RetryAfter?.Delta > TimeSpan.Zero, "503 carries Retry-After");

        gate.Release(100);
        // BlueBubbles retries the refused event: now it fits.
        string refusedBody = Msg(accepted);
        await ChannelHarness.WaitUntilAsync(() => fake.Sent.Count >= accepted, "queued messages answered");
        Assert.Equal(HttpStatusCode.OK, (await PostAsync(client, refusedBody, "hook-secret")).StatusCode);
        await ChannelHarness.WaitUntilAsync(() => fake.Sent.Count == accepted + 1, "retried message answered");
        Assert.Equal(Enumerable.Range(0, accepted + 1).Select(i => "re:m" + i), fake.Sent.Select(s => s["message"]!.GetValue<string>()));
    }
}
