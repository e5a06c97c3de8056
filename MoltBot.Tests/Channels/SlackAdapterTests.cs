using System.Text.Json.Nodes;
using MoltBot.Channels.Slack;
using MoltBot.Contracts.Pipeline;
using MoltBot.DevTools.Sandbox.Platforms;

namespace MoltBot.Tests.Channels;

public class SlackAdapterTests
{
    private static Dictionary<string, string?> Settings(FakeSlackServer fake) => new()
    {
        ["Channels:Slack:Enabled"] = "true",
        ["Channels:Slack:BaseUrl"] = fake.Url + "/api",
        ["Channels:Slack:AppToken"] = FakeSlackServer.DefaultAppToken,
        ["Channels:Slack:BotToken"] = FakeSlackServer.DefaultBotToken,
        ["Channels:Slack:RetryBaseDelayMilliseconds"] = "10",
        ["Channels:Slack:MaxRetryAttempts"] = "10",
    };

    private static string Ts(int i) => $"1700000000.{i:D6}";

    /// <summary>
    /// Publishes a fresh message in <paramref name="channel"/> and waits until it is answered and acknowledged. One
    /// channel's messages are handled and answered in order, so anything the earlier envelopes set off (a second
    /// handling, a doubled post) has shown by then: a causal barrier instead of waiting a while of real time.
    /// </summary>
    private static Task BarrierAsync(FakeSlackServer fake, string channel, string user, string text, int ts)
    {
        string envelope = "env-" + text;
        fake.Publish(envelope, FakeSlackServer.MessageEvent(envelope, channel, user, text, Ts(ts)));
        return ChannelHarness.WaitUntilAsync(() => fake.AckCounts.ContainsKey(envelope)
            && fake.Posts.Any(p => p["channel"]!.GetValue<string>() == channel && p["text"]!.GetValue<string>() == "re:" + text), "reply to " + text);
    }

    [Fact]
    public async Task Hello_then_every_envelope_is_acknowledged_and_answered_with_chat_postMessage()
    {
        await using var fake = new FakeSlackServer();
        await fake.StartAsync();
        await using var h = await ChannelHarness.StartAsync(Settings(fake));
        var adapter = h.Adapter<SlackAdapter>();
        await ChannelHarness.WaitUntilAsync(() => adapter.State == ChannelState.Connected, "hello");

        fake.Publish("env-1", FakeSlackServer.MessageEvent("env-1", "D1", "U1", "hello *there*", Ts(1)));
        await ChannelHarness.WaitUntilAsync(() => fake.Posts.Count == 1 && fake.AckCounts.ContainsKey("env-1"), "reply posted and envelope acknowledged");
        await BarrierAsync(fake, "D1", "U1", "after", 2);

        Assert.Equal(["re:hello *there*", "re:after"], fake.Posts.Select(p => p["text"]!.GetValue<string>()));
        var post = fake.Posts.First();
        Assert.Equal("D1", post["channel"]!.GetValue<string>());
        // common markup "**there**" renders back to Slack's *there*
        Assert.Equal("re:hello *there*", post["text"]!.GetValue<string>());
        Assert.Equal(1, fake.AckCounts["env-1"]);
        Assert.Equal(["hello **there**", "after"], h.Handler.Seen.Select(e => e.Text));
    }

    [Fact]
    public async Task Refresh_disconnect_opens_the_next_connection_first_and_loses_nothing()
    {
        await using var fake = new FakeSlackServer();
        await fake.StartAsync();
        await using var h = await ChannelHarness.StartAsync(Settings(fake));
        var adapter = h.Adapter<SlackAdapter>();
        await ChannelHarness.WaitUntilAsync(() => adapter.State == ChannelState.Connected, "hello");

        for (int i = 0; i < 30; i++) fake.Publish($"e{i}", FakeSlackServer.MessageEvent($"e{i}", "D1", "U1", $"m{i}", Ts(i)));
        await ChannelHarness.WaitUntilAsync(() => fake.Posts.Count >= 10, "first replies");
        await fake.RequestRefreshAsync();
        for (int i = 30; i < 60; i++) fake.Publish($"e{i}", FakeSlackServer.MessageEvent($"e{i}", "D1", "U1", $"m{i}", Ts(i)));
        await ChannelHarness.WaitUntilAsync(() => fake.Posts.Count >= 60, "all replies");
        await BarrierAsync(fake, "D1", "U1", "m60", 60);

        Assert.Equal(2, fake.ConnectionsOpened);
        Assert.Equal(Enumerable.Range(0, 61).Select(i => $"re:m{i}"), fake.Posts.Select(p => p["text"]!.GetValue<string>()));
        Assert.Equal(0, adapter.Tracker.ReconnectCount); // seamless: never went through "reconnecting"
        Assert.Equal(ChannelState.Connected, adapter.State);
    }

    [Fact]
    public async Task Rate_limited_post_waits_for_Retry_After_and_is_sent_once()
    {
        await using var fake = new FakeSlackServer { RateLimitNextPosts = 1 };
        await fake.StartAsync();
        await using var h = await ChannelHarness.StartAsync(Settings(fake));
        fake.Publish("env-1", FakeSlackServer.MessageEvent("env-1", "D1", "U1", "hi", Ts(1)));
        await ChannelHarness.WaitUntilAsync(() => fake.Posts.Count == 1, "reply after the rate limit");
        await BarrierAsync(fake, "D1", "U1", "after", 2);

        Assert.Equal(["re:hi", "re:after"], fake.Posts.Select(p => p["text"]!.GetValue<string>())); // "hi" was posted once
        var waited = fake.FirstPostAfterRateLimitAt!.Value - fake.FirstRateLimitedAt!.Value;
        Assert.True(waited >= TimeSpan.FromMilliseconds(900), $"retried after {waited.TotalMilliseconds} ms, before Retry-After: 1");
    }

    [Fact]
    public async Task Two_thousand_messages_over_a_connection_dropped_every_few_hundred_ms_are_answered_once_in_order()
    {
        const int users = 20, perUser = 100;
        await using var fake = new FakeSlackServer { DropEvery = TimeSpan.FromMilliseconds(400), FailEveryNthPost = 37 };
        await fake.StartAsync();
        await using var h = await ChannelHarness.StartAsync(Settings(fake));
        for (int i = 0; i < perUser; i++)
        {
            for (int u = 0; u < users; u++)
            {
                string id = $"u{u}-{i}";
                fake.Publish("env-" + id, FakeSlackServer.MessageEvent("env-" + id, $"D{u}", $"U{u}", id, Ts(i * users + u)));
            }
        }
        await ChannelHarness.WaitUntilAsync(() => fake.Posts.Count >= users * perUser, "2000 replies", timeoutSeconds: 120);
        // One more message per user: a doubled reply to any of the 2,000 would be posted before its user's barrier.
        for (int u = 0; u < users; u++) await BarrierAsync(fake, $"D{u}", $"U{u}", $"u{u}-{perUser}", perUser * users + u);

        Assert.True(fake.ConnectionsOpened >= 3, $"the fake dropped the connection {fake.ConnectionsOpened - 1} times");
        Assert.Equal(users * (perUser + 1), fake.Posts.Count);
        Assert.Equal(users * (perUser + 1), h.Handler.Seen.Count);
        foreach (var group in fake.Posts.GroupBy(p => p["channel"]!.GetValue<string>()))
        {
            int u = int.Parse(group.Key[1..]);
            Assert.Equal(Enumerable.Range(0, perUser + 1).Select(i => $"re:u{u}-{i}"), group.Select(p => p["text"]!.GetValue<string>()));
        }
    }
}
