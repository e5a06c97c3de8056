using System.Text.Json;
using MoltBot.Contracts.Messaging;
using MoltBot.Gateway;
using MoltBot.Gateway.WebSockets;
using MoltBot.Tests.Skills;

namespace MoltBot.Tests.Gateway;

/// <summary>
/// Gateway:AckHoldMilliseconds: an accepted send's ack is published right before the session's next frame (so a quick
/// reply.final leaves with it) or when the hold time is up, never after a frame published later, and exactly once.
/// A session without a connection keeps every published frame for resume, so its buffer shows what a client would get,
/// in seq order; the clock is a fake one whose timers fire only when the test advances it.
/// </summary>
public class AckHoldTests
{
    private static readonly DateTimeOffset Start = new(2026, 11, 24, 21, 0, 0, TimeSpan.Zero);

    private static (GatewaySession Session, FakeClock Clock) NewSession(int holdMs)
    {
        var clock = new FakeClock(Start);
        var options = new GatewayOptions { AckHoldMilliseconds = holdMs };
        return (new GatewaySession("s1", "web:u", "web:u", null, options, clock), clock);
    }

    private static void Accept(GatewaySession session, string clientId, string envelopeId) => session.Send(clientId, envelopeId, () => null);

    private static OutboundMessage Reply(string envelopeId, OutboundKind kind = OutboundKind.Final, string text = "done") => new()
    {
        Kind = kind, Platform = Platforms.Web, ConversationId = "web:u", UserId = "web:u", InReplyTo = envelopeId, Text = text,
    };

    /// <summary>Each buffered frame as "type seq key", key = id (ack), replyTo (replies) or nonce (pong).</summary>
    private static List<string> Frames(GatewaySession session) => session.BufferedFrames.Select(f =>
    {
        using var doc = JsonDocument.Parse(f);
        var r = doc.RootElement;
        string type = r.GetProperty("type").GetString()!;
        string key = type == "ack" ? r.GetProperty("id").GetString()! + (r.GetProperty("duplicate").GetBoolean() ? " dup" : "")
            : r.TryGetProperty("replyTo", out var to) ? to.GetString()! : r.TryGetProperty("nonce", out var n) ? n.GetString()! : "";
        return $"{type} {r.GetProperty("seq").GetInt64()} {key}";
    }).ToList();

    [Fact]
    public void A_quick_reply_publishes_the_held_ack_right_before_it()
    {
        var (session, _) = NewSession(100);
        Accept(session, "c1", "e1");
        Assert.Equal(0, session.LastSeq); // held: no seq yet, nothing to send or replay
        session.Deliver(Reply("e1"), proactive: false);
        Assert.Equal(["ack 1 c1", "reply.final 2 c1"], Frames(session));
    }

    [Fact]
    public void Without_a_reply_the_ack_goes_out_when_the_hold_time_is_up()
    {
        var (session, clock) = NewSession(100);
        Accept(session, "c1", "e1");
        clock.Advance(TimeSpan.FromMilliseconds(99));
        Assert.Equal(0, session.LastSeq);
        clock.Advance(TimeSpan.FromMilliseconds(1));
        Assert.Equal(["ack 1 c1"], Frames(session));
        // The reply afterwards does not repeat it.
        session.Deliver(Reply("e1"), proactive: false);
        clock.Advance(TimeSpan.FromSeconds(1));
        Assert.Equal(["ack 1 c1", "reply.final 2 c1"], Frames(session));
    }

    [Fact]
    public void Several_held_acks_keep_their_order_before_any_later_frame_and_a_duplicate()
    {
        var (session, clock) = NewSession(100);
        Accept(session, "c1", "e1");
        Accept(session, "c2", "e2");
        session.Publish("pong", w => w.WriteString("nonce", "n1"));
        Accept(session, "c3", "e3");
        session.Deliver(Reply("e2", OutboundKind.Typing), proactive: false);
        Accept(session, "c4", "e4");
        Accept(session, "c4", "e4-again"); // a resend of c4 while its ack is held: the ack first, then the duplicate's
        session.Deliver(Reply("e1"), proactive: false);
        clock.Advance(TimeSpan.FromSeconds(1)); // nothing held any more: the timer adds nothing
        Assert.Equal(
            ["ack 1 c1", "ack 2 c2", "pong 3 n1", "ack 4 c3", "typing 5 c2", "ack 6 c4", "ack 7 c4 dup", "reply.final 8 c1"],
            Frames(session));
    }

    [Fact]
    public void Zero_sends_every_ack_at_once()
    {
        var (session, clock) = NewSession(0);
        Accept(session, "c1", "e1");
        Assert.Equal(["ack 1 c1"], Frames(session));
        Assert.Equal(0, clock.TimerChanges); // no timer at all
    }

    [Fact]
    public void An_expired_session_drops_its_held_acks_and_its_timer()
    {
        var (session, clock) = NewSession(100);
        Accept(session, "c1", "e1");
        Assert.True(session.TryExpire(Start.AddHours(1).ToUnixTimeMilliseconds()));
        clock.Advance(TimeSpan.FromSeconds(1));
        Assert.Equal(0, session.LastSeq);
        Assert.Empty(Frames(session));
    }

    [Fact]
    public void An_out_of_range_hold_is_refused_naming_the_key()
    {
        var options = new GatewayOptions { AckHoldMilliseconds = 1_001 };
        var results = new List<System.ComponentModel.DataAnnotations.ValidationResult>();
        bool valid = System.ComponentModel.DataAnnotations.Validator.TryValidateObject(options,
            new System.ComponentModel.DataAnnotations.ValidationContext(options), results, validateAllProperties: true);
        Assert.False(valid);
        Assert.Contains(results, r => r.ErrorMessage!.Contains("Gateway:AckHoldMilliseconds"));
    }
}
