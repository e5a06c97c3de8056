using MoltBot.Channels.Discord;
using MoltBot.Contracts.Pipeline;
using MoltBot.DevTools.Sandbox.Platforms;

namespace MoltBot.Tests.Channels;

public class DiscordAdapterTests
{
    private static Dictionary<string, string?> Settings(FakeDiscordServer fake) => new()
    {
        ["Channels:Discord:Enabled"] = "true",
        ["Channels:Discord:BaseUrl"] = fake.Url + "/api/v10",
        ["Channels:Discord:Token"] = FakeDiscordServer.DefaultToken,
        ["Channels:Discord:RetryBaseDelayMilliseconds"] = "10",
    };

    [Fact]
    public async Task Hello_identify_with_intents_heartbeats_and_message_create_is_answered_by_REST_reply()
    {
        await using var fake = new FakeDiscordServer { HeartbeatMs = 300 };
        await fake.StartAsync();
        await using var h = await ChannelHarness.StartAsync(Settings(fake));
        var adapter = h.Adapter<DiscordAdapter>();
        await ChannelHarness.WaitUntilAsync(() => adapter.State == ChannelState.Connected, "READY");

        var identify = fake.Identifies.Single()["d"]!.AsObject();
        Assert.Equal(FakeDiscordServer.DefaultToken, identify["token"]!.GetValue<string>());
        Assert.Equal(DiscordOptions.DefaultIntents, identify["intents"]!.GetValue<int>());
        Assert.Matches(@"^/gateway/?\?v=10&encoding=json$", fake.ConnectPaths.Single());

        await fake.DispatchAsync("MESSAGE_CREATE", FakeDiscordServer.Message("m1", "C1", "U1", "hi <@!BOT>"));
        await ChannelHarness.WaitUntilAsync(() => fake.Messages.Count == 1, "REST reply");
        var (channel, body, _) = fake.Messages.Single();
        Assert.Equal("C1", channel);
        Assert.Equal("re:hi <@BOT>", body["content"]!.GetValue<string>());
        Assert.Equal("m1", body["message_reference"]!["message_id"]!.GetValue<string>());
        await ChannelHarness.WaitUntilAsync(() => fake.Heartbeats >= 2, "heartbeats at the announced interval");
    }

    [Fact]
    public async Task Missing_heartbeat_ack_is_a_zombie_connection_that_is_resumed_without_losing_events()
    {
        await using var fake = new FakeDiscordServer { HeartbeatMs = 200 };
        await fake.StartAsync();
        await using var h = await ChannelHarness.StartAsync(Settings(fake));
        var adapter = h.Adapter<DiscordAdapter>();
        await ChannelHarness.WaitUntilAsync(() => adapter.State == ChannelState.Connected, "READY");
        await fake.DispatchAsync("MESSAGE_CREATE", FakeDiscordServer.Message("m1", "C1", "U1", "before"));
        await ChannelHarness.WaitUntilAsync(() => fake.Messages.Count == 1, "first reply");
        string session = fake.SessionId!;

        fake.StopAcking = true;
        await ChannelHarness.WaitUntilAsync(() => adapter.ZombiesDetected >= 1, "zombie detected");
        // Sent while the client is reconnecting: RESUME must replay it.
        await fake.DispatchAsync("MESSAGE_CREATE", FakeDiscordServer.Message("m2", "C1", "U1", "during"));
        fake.StopAcking = false;
        await ChannelHarness.WaitUntilAsync(() => !fake.Resumes.IsEmpty, "RESUME");
        await ChannelHarness.WaitUntilAsync(() => fake.Messages.Count == 2, "reply to the replayed event");
        // Barrier instead of a real-time wait: one channel's events are answered in order, so a replayed duplicate of
        // "before" or "during" would be answered before this one.
        await fake.DispatchAsync("MESSAGE_CREATE", FakeDiscordServer.Message("m3", "C1", "U1", "after"));
        await ChannelHarness.WaitUntilAsync(() => fake.Messages.Any(m => m.Body["content"]!.GetValue<string>() == "re:after"), "reply to the barrier event");

        var resume = fake.Resumes.First()["d"]!.AsObject();
        Assert.Equal(session, resume["session_id"]!.GetValue<string>());
        Assert.True(resume["seq"]!.GetValue<long>() >= 2, "RESUME carries the last sequence number");
        Assert.Single(fake.Identifies); // resumed, not re-identified
        Assert.Contains(fake.ConnectPaths, p => p.StartsWith("/resume", StringComparison.Ordinal));
        Assert.Equal(["re:before", "re:during", "re:after"], fake.Messages.Select(m => m.Body["content"]!.GetValue<string>()));
        Assert.Equal(ChannelState.Connected, adapter.State);
    }

    [Fact]
    public async Task Reconnect_op7_resumes_and_non_resumable_invalid_session_identifies_again()
    {
        await using var fake = new FakeDiscordServer { HeartbeatMs = 1000 };
        await fake.StartAsync();
        await using var h = await ChannelHarness.StartAsync(Settings(fake));
        var adapter = h.Adapter<DiscordAdapter>();
        await ChannelHarness.WaitUntilAsync(() => adapter.State == ChannelState.Connected, "READY");

        await fake.SendReconnectAsync();
        await ChannelHarness.WaitUntilAsync(() => fake.Resumes.Count == 1 && fake.Connected, "RESUME after op 7");
        await ChannelHarness.WaitUntilAsync(() => adapter.State == ChannelState.Connected, "RESUMED");

        await fake.SendInvalidSessionAsync(resumable: false);
        await ChannelHarness.WaitUntilAsync(() => fake.Identifies.Count == 2, "fresh IDENTIFY after op 9 (false)");
        await ChannelHarness.WaitUntilAsync(() => adapter.State == ChannelState.Connected, "READY again");
        Assert.Equal(2, adapter.Identifies);

        await fake.DispatchAsync("MESSAGE_CREATE", FakeDiscordServer.Message("m9", "C1", "U1", "after"));
        await ChannelHarness.WaitUntilAsync(() => fake.Messages.Count == 1, "reply on the new session");
    }

    [Fact]
    public async Task Rate_limit_buckets_are_respected_and_a_429_is_retried_after_retry_after()
    {
        await using var fake = new FakeDiscordServer { HeartbeatMs = 1000, BucketSize = 2, BucketResetSeconds = 1 };
        await fake.StartAsync();
        await using var h = await ChannelHarness.StartAsync(Settings(fake));
        var adapter = h.Adapter<DiscordAdapter>();
        await ChannelHarness.WaitUntilAsync(() => adapter.State == ChannelState.Connected, "READY");

        for (int i = 0; i < 5; i++) await fake.DispatchAsync("MESSAGE_CREATE", FakeDiscordServer.Message("m" + i, "C1", "U1", "n" + i));
        await ChannelHarness.WaitUntilAsync(() => fake.Messages.Count == 5, "five replies");
        // Remaining hit 0 twice: the adapter waited for the bucket to reset instead of drawing 429s.
        Assert.Equal(0, fake.TooManyRequestsAnswered);
        var times = fake.Messages.Select(m => m.At).ToArray();
        Assert.True(times[4] - times[0] >= TimeSpan.FromMilliseconds(1500), $"5 sends in a 2-per-second bucket took {(times[4] - times[0]).TotalMilliseconds} ms");

        fake.RateLimitNext = 1;
        await fake.DispatchAsync("MESSAGE_CREATE", FakeDiscordServer.Message("m5", "C1", "U1", "n5"));
        await ChannelHarness.WaitUntilAsync(() => fake.Messages.Count == 6, "reply after 429");
        // Barrier: a doubled n5 (the retried send) would be answered before the next event's reply.
        await fake.DispatchAsync("MESSAGE_CREATE", FakeDiscordServer.Message("m6", "C1", "U1", "n6"));
        await ChannelHarness.WaitUntilAsync(() => fake.Messages.Any(m => m.Body["content"]!.GetValue<string>() == "re:n6"), "reply to the barrier event");
        Assert.Equal(1, fake.TooManyRequestsAnswered);
        Assert.Equal(Enumerable.Range(0, 7).Select(i => "re:n" + i), fake.Messages.Select(m => m.Body["content"]!.GetValue<string>()));
    }
}
