using System.Runtime.CompilerServices;
using System.Text.Json;
using System.Text.Json.Nodes;
using MoltBot.Contracts.Messaging;
using MoltBot.Gateway;
using MoltBot.Gateway.WebSockets;
using MoltBot.Tests.Skills;

namespace MoltBot.Tests.Gateway;

/// <summary>
/// What a session keeps per message: a resend's reply is answered from the reply.final frame the session published
/// (UTF-8, shared with the resume buffer), not from a second copy of the reply message and its strings.
/// </summary>
public class SessionFootprintTests
{
    private static GatewaySession NewSession() =>
        new("s1", "web:u", "web:u", null, new GatewayOptions { AckHoldMilliseconds = 0 }, new FakeClock(new DateTimeOffset(2026, 11, 25, 2, 0, 0, TimeSpan.Zero)));

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static WeakReference DeliverReply(GatewaySession session, string envelopeId)
    {
        var reply = new OutboundMessage
        {
            Kind = OutboundKind.Final, Platform = Platforms.Web, ConversationId = "web:u", UserId = "web:u", InReplyTo = envelopeId,
            Text = "Hello Alice!", Language = "en", Source = "skill:greeting", CardJson = """{"title":"Hi","items":[1,2]}""", TimestampMs = 1_764_000_000_020,
        };
        Assert.True(session.Deliver(reply, proactive: false));
        return new WeakReference(reply);
    }

    [Fact]
    public void A_remembered_reply_is_kept_as_its_published_frame_and_resent_with_the_same_members()
    {
        var session = NewSession();
        session.Send("c1", "e1", () => null);
        var reply = DeliverReply(session, "e1");

        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
        Assert.False(reply.IsAlive, "the session still holds the reply message after publishing it");

        session.Send("c1", "e-resent", () => null);
        var frames = session.BufferedFrames.Select(f => JsonNode.Parse(f)!.AsObject()).ToList();
        Assert.Equal(["ack", "reply.final", "ack", "reply.final"], frames.Select(f => (string)f["type"]!));
        var (original, again) = (frames[1], frames[3]);
        Assert.Equal(4, (long)again["seq"]!);
        Assert.True((bool)again["duplicate"]!);
        Assert.Equal("e1", (string?)frames[2]["messageId"]);
        // Every member of the original, in the same order, then "duplicate"; only the seq differs.
        original["seq"] = 4;
        original["duplicate"] = true;
        Assert.Equal(original.ToJsonString(), again.ToJsonString());
        Assert.Equal("""{"title":"Hi","items":[1,2]}""", again["card"]!.ToJsonString());
    }
}
