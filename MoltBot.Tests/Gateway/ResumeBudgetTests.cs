using Microsoft.Extensions.DependencyInjection;
using MoltBot.Gateway.WebSockets;

namespace MoltBot.Tests.Gateway;

/// <summary>
/// Gateway:ResumeBufferTotalBytes bounds the frames all sessions keep together, oldest first, with real WebSocket
/// clients on the whole host: a session whose frames went gets resume_failed (and a new session), a resent id whose
/// reply's frame went still gets its duplicate ack and reply and is not handled again, and the newest frames stay resumable.
/// </summary>
public class ResumeBudgetTests
{
    private const int Budget = 65_536;

    [Fact]
    public async Task The_oldest_frames_of_any_session_go_first_when_all_sessions_together_are_over_the_budget()
    {
        var (host, handler) = await GatewayFixture.StartAsync(new Dictionary<string, string> { ["Gateway:ResumeBufferTotalBytes"] = Budget.ToString() });
        await using var _h = host;
        var registry = host.Services.GetRequiredService<SessionRegistry>();
        var uri = GatewayFixture.WebSocketUri(host);

        // Alice: ≈ 32 KB of frames. Bob, later: ≈ 80 KB, more than the whole budget by itself.
        var (alice, _, aliceSession) = await WsClient.OpenSessionAsync(uri, "alice");
        await using var _a = alice;
        await alice.SendAsync(new { type = "send", id = "a1", text = "flood:8:4000" });
        var aliceFrames = await alice.ReceiveUntilAsync("reply.final");
        Assert.Equal("flooded", (string?)aliceFrames[^1]["text"]);
        Assert.Equal(0, registry.ResumeFramesEvicted);

        var (bob, _, bobSession) = await WsClient.OpenSessionAsync(uri, "bob");
        await using var _b = bob;
        await bob.SendAsync(new { type = "send", id = "b1", text = "flood:20:4000" });
        var bobFrames = await bob.ReceiveUntilAsync("reply.final");
        long bobFinal = (long)bobFrames[^1]["seq"]!;

        // Alice resends her id on the same connection: not handled again, answered with the original message id and,
        // although resume no longer holds her reply's frame, with her reply (the idempotency entry keeps its own).
        await alice.SendAsync(new { type = "send", id = "a1", text = "flood:8:4000" });
        var ack = await alice.ReceiveAsync();
        Assert.Equal("ack", (string?)ack["type"]);
        Assert.True((bool)ack["duplicate"]!);
        Assert.Equal((string?)aliceFrames.First(f => (string?)f["type"] == "ack")["messageId"], (string?)ack["messageId"]);
        var again = await alice.ReceiveAsync();
        Assert.Equal(("reply.final", "flooded", true), ((string?)again["type"], (string?)again["text"], (bool)again["duplicate"]!));
        Assert.Equal(1, handler.Calls["flood:8:4000"]);

        Assert.True(registry.ResumeFramesEvicted >= aliceFrames.Count, $"{registry.ResumeFramesEvicted} frames evicted");
        Assert.InRange(registry.ResumeBufferBytes, 1, Budget + 1_024); // at most the pong may not be trimmed yet

        // Bob's newest frames are still there: resuming from just before his reply gets exactly that reply.
        var (bobAgain, _, resumed) = await WsClient.OpenSessionAsync(uri, "bob", resume: new { session = (string)bobSession["session"]!, lastSeq = bobFinal - 1 });
        await using var _b2 = bobAgain;
        Assert.True((bool)resumed["resumed"]!);
        var replayed = await bobAgain.ReceiveAsync();
        Assert.Equal(("reply.final", bobFinal), ((string?)replayed["type"], (long)replayed["seq"]!));

        // Alice's first frames are not: resuming from the start fails and a new session follows.
        var (aliceAgain, _, error) = await WsClient.OpenSessionAsync(uri, "alice", resume: new { session = (string)aliceSession["session"]!, lastSeq = 0 });
        await using var _a2 = aliceAgain;
        Assert.Equal("resume_failed", (string?)error["code"]);
        var fresh = await aliceAgain.ReceiveAsync();
        Assert.Equal("session", (string?)fresh["type"]);
        Assert.False((bool)fresh["resumed"]!);
    }
}
