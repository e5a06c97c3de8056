package moltbot

import (
	"context"
	"errors"
	"net"
	"os"
	"strings"
	"sync"
	"testing"
	"time"
)

var server *moltBotServer

// One MoltBot process for all tests of the package (starting one costs a few seconds of CPU).
func TestMain(m *testing.M) {
	s, err := startServer()
	if err != nil {
		os.Stderr.WriteString("could not start MoltBot for the Go SDK tests: " + err.Error() + "\n")
		os.Exit(1)
	}
	server = s
	code := m.Run()
	server.stop()
	os.Exit(code)
}

func testContext(t *testing.T) context.Context {
	// Generous: only there so a broken build fails instead of hanging.
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func fastBackoff() *Backoff {
	return &Backoff{Initial: 50 * time.Millisecond, Factor: 2, Max: 500 * time.Millisecond, MaxAttempts: 20}
}

func dial(t *testing.T, opts Options) *Client {
	t.Helper()
	if opts.Token == "" {
		opts.Token = testToken
	}
	if opts.Backoff == nil {
		opts.Backoff = fastBackoff()
	}
	c, err := Dial(testContext(t), server.wsURL, opts)
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}

func collect(ctx context.Context, r *Reply) []string {
	var out []string
	for d := range r.Deltas(ctx) {
		out = append(out, d)
	}
	return out
}

func (c *Client) conversationIDForTests() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.conversationID
}

func traceOf(c *Client) []TraceEntry {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]TraceEntry(nil), c.trace...)
}

func startTracing(c *Client) {
	c.mu.Lock()
	c.tracing = true
	c.mu.Unlock()
}

func countType(trace []TraceEntry, kind string) int {
	n := 0
	for _, e := range trace {
		if e.Type == kind {
			n++
		}
	}
	return n
}

// assertContiguous: nothing lost, nothing twice — the accepted sequence numbers are exactly 1..last.
func assertContiguous(t *testing.T, c *Client) {
	t.Helper()
	trace := traceOf(c)
	for i, e := range trace {
		if e.Seq != int64(i+1) {
			t.Fatalf("sequence numbers not 1..n exactly once: %v", trace)
		}
	}
	if int64(len(trace)) != c.LastSeq() {
		t.Fatalf("trace has %d events, last seq %d", len(trace), c.LastSeq())
	}
}

func TestSendAndReceiveReply(t *testing.T) {
	ctx := testContext(t)
	c := dial(t, Options{})
	if c.Hello().Protocol != ProtocolVersion || c.SessionID() == "" {
		t.Fatalf("hello %+v session %q", c.Hello(), c.SessionID())
	}
	r, err := c.Send(ctx, "hello there", WithID("go-hello-1"))
	if err != nil {
		t.Fatal(err)
	}
	ack, err := r.Ack(ctx)
	if err != nil {
		t.Fatal(err)
	}
	final, err := r.Final(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if ack.ID != "go-hello-1" || ack.Duplicate || final.ReplyTo != "go-hello-1" || final.MessageID != ack.MessageID {
		t.Fatalf("ack %+v final %+v", ack, final)
	}
	if strings.TrimSpace(final.Text) == "" || final.Failed {
		t.Fatalf("empty or failed reply: %+v", final)
	}
}

func TestStreamDeltasThenFinal(t *testing.T) {
	ctx := testContext(t)
	c := dial(t, Options{})
	startTracing(c)
	r, err := c.Send(ctx, "tell me something")
	if err != nil {
		t.Fatal(err)
	}
	deltas := collect(ctx, r) // closes when the final reply arrives
	final, err := r.Final(ctx)
	if err != nil {
		t.Fatal(err)
	}
	trace := traceOf(c)
	if trace[0].Type != "ack" || trace[len(trace)-1].Type != "reply.final" {
		t.Fatalf("unexpected order: %v", trace)
	}
	if countType(trace, "reply.delta") != len(deltas) {
		t.Fatalf("%d deltas received, %d delivered", countType(trace, "reply.delta"), len(deltas))
	}
	if len(deltas) > 0 && strings.Join(deltas, "") != final.Text {
		t.Fatalf("deltas %q do not add up to %q", deltas, final.Text)
	}
}

func TestConnectionDropMidReplyResumesAndDeliversOnce(t *testing.T) {
	ctx := testContext(t)
	c := dial(t, Options{})
	startTracing(c)
	if _, err := c.Ask(ctx, "first message"); err != nil {
		t.Fatal(err)
	}
	r, err := c.Send(ctx, "second message", WithID("go-drop-1"))
	if err != nil {
		t.Fatal(err)
	}
	// Cut the TCP connection right after the frame left: the reply is produced while the client is away,
	// kept by the server and replayed on resume.
	c.abortConnectionForTests()
	deltas := collect(ctx, r)
	final, err := r.Final(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if c.Reconnects() < 1 || final.ReplyTo != "go-drop-1" || strings.TrimSpace(final.Text) == "" {
		t.Fatalf("reconnects %d final %+v", c.Reconnects(), final)
	}
	if len(deltas) > 0 && strings.Join(deltas, "") != final.Text {
		t.Fatalf("deltas %q do not add up to %q", deltas, final.Text)
	}
	assertContiguous(t, c)
	if n := countType(traceOf(c), "reply.final"); n != 2 {
		t.Fatalf("%d finals for two messages", n)
	}
	if _, err := c.Ask(ctx, "third message"); err != nil {
		t.Fatalf("session unusable after resume: %v", err)
	}
}

// pausableConn stops delivering received bytes while paused, as a client that stopped reading would. Bytes
// that arrive while paused (including those of a read already in progress) are lost when it is closed.
type pausableConn struct {
	net.Conn
	mu      sync.Mutex
	paused  bool
	dropped bool
	resume  chan struct{}
}

func (p *pausableConn) Read(b []byte) (int, error) {
	n, err := p.Conn.Read(b)
	p.mu.Lock()
	defer p.mu.Unlock()
	for p.paused {
		ch := p.resume
		p.mu.Unlock()
		<-ch
		p.mu.Lock()
	}
	if p.dropped {
		return 0, net.ErrClosed
	}
	return n, err
}

func (p *pausableConn) pause() {
	p.mu.Lock()
	p.paused, p.resume = true, make(chan struct{})
	p.mu.Unlock()
}

// Close drops the connection; a paused reader wakes up to the error (its unread bytes are lost).
func (p *pausableConn) Close() error {
	err := p.Conn.Close()
	p.mu.Lock()
	if p.paused {
		p.paused, p.dropped = false, true
		close(p.resume)
	}
	p.mu.Unlock()
	return err
}

func TestEventsProducedWhileDisconnectedAreReplayedExactlyOnce(t *testing.T) {
	ctx := testContext(t)
	conns := make(chan *pausableConn, 10)
	var d net.Dialer
	c := dial(t, Options{NetDialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
		conn, err := d.DialContext(ctx, network, addr)
		if err != nil {
			return nil, err
		}
		p := &pausableConn{Conn: conn}
		conns <- p
		return p, nil
	}})
	first := <-conns
	startTracing(c)
	if _, err := c.Ask(ctx, "warm up"); err != nil {
		t.Fatal(err)
	}
	first.pause() // from here on the client reads nothing: events pile up unread
	r, err := c.Send(ctx, "reply while I am away", WithID("go-away-1"))
	if err != nil {
		t.Fatal(err)
	}
	waitForReplies(t, c.conversationIDForTests(), 2) // the server has answered (and published)
	time.Sleep(300 * time.Millisecond)
	_ = first.Close() // the unread ack and final are lost with the connection
	final, err := r.Final(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if final.ReplyTo != "go-away-1" || c.ReplayedEvents() < 2 {
		t.Fatalf("final %+v, replayed %d (want >= 2: the ack and the final)", final, c.ReplayedEvents())
	}
	assertContiguous(t, c)
	trace := traceOf(c)
	if countType(trace, "ack") != 2 || countType(trace, "reply.final") != 2 {
		t.Fatalf("each message acked and answered once: %v", trace)
	}
}

func waitForReplies(t *testing.T, conversation string, count int) {
	t.Helper()
	for deadline := time.Now().Add(60 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		messages, err := server.history(conversation)
		if err != nil {
			t.Fatal(err)
		}
		out := 0
		for _, m := range messages {
			if m["direction"] == "out" {
				out++
			}
		}
		if out >= count {
			return
		}
	}
	t.Fatalf("MoltBot did not answer %d messages in %s", count, conversation)
}

func TestDropAfterAckResumesWithoutResend(t *testing.T) {
	ctx := testContext(t)
	c := dial(t, Options{})
	startTracing(c)
	r, err := c.Send(ctx, "a message", WithID("go-drop-2"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.Ack(ctx); err != nil {
		t.Fatal(err)
	}
	c.abortConnectionForTests()
	if _, err := r.Final(ctx); err != nil {
		t.Fatal(err)
	}
	trace := traceOf(c)
	if countType(trace, "ack") != 1 || countType(trace, "reply.final") != 1 {
		t.Fatalf("acked before the drop, so never resent: %v", trace)
	}
	assertContiguous(t, c)
}

func TestResendingAnIDReturnsTheOriginalReply(t *testing.T) {
	ctx := testContext(t)
	c := dial(t, Options{})
	original, err := c.Ask(ctx, "remember me", WithID("go-idem-1"))
	if err != nil {
		t.Fatal(err)
	}
	again, err := c.Send(ctx, "remember me", WithID("go-idem-1"))
	if err != nil {
		t.Fatal(err)
	}
	ack, err := again.Ack(ctx)
	if err != nil {
		t.Fatal(err)
	}
	repeat, err := again.Final(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !ack.Duplicate || repeat.MessageID != original.MessageID || repeat.Text != original.Text {
		t.Fatalf("ack %+v original %+v repeat %+v", ack, original, repeat)
	}
}

func TestBadTokenIsAnAuthError(t *testing.T) {
	_, err := Dial(testContext(t), server.wsURL, Options{Token: "wrong-token-wrong-token", Backoff: fastBackoff()})
	var e *Error
	if !errors.Is(err, ErrAuthFailed) || !errors.As(err, &e) || e.CloseCode != 4001 {
		t.Fatalf("want auth_failed with close code 4001, got %#v", err)
	}
}

func TestProtocolVersionMismatchIsAClearError(t *testing.T) {
	_, err := Dial(testContext(t), server.wsURL, Options{Token: testToken, ProtocolVersion: ProtocolVersion + 1})
	if !errors.Is(err, ErrProtocolMismatch) || !strings.Contains(err.Error(), "server speaks protocol version 1") {
		t.Fatalf("want protocol_mismatch, got %v", err)
	}
}

func TestTextOverTheLimitIsATypedErrorAndTheConnectionStaysUsable(t *testing.T) {
	ctx := testContext(t)
	c := dial(t, Options{})
	r, err := c.Send(ctx, strings.Repeat("x", c.Hello().MaxTextLength+1))
	if err != nil {
		t.Fatal(err)
	}
	_, err = r.Final(ctx)
	var e *Error
	if !errors.Is(err, ErrTextTooLong) || !errors.As(err, &e) || e.MessageID != r.ID {
		t.Fatalf("want text_too_long for %s, got %#v", r.ID, err)
	}
	if _, err := c.Ask(ctx, "still here?"); err != nil {
		t.Fatal(err)
	}
}

func TestFrameOverMaxFrameBytesIsRefusedBeforeSending(t *testing.T) {
	ctx := testContext(t)
	c := dial(t, Options{})
	_, err := c.Send(ctx, strings.Repeat("y", c.Hello().MaxFrameBytes+10))
	if !errors.Is(err, ErrMessageTooBig) || c.Reconnects() != 0 {
		t.Fatalf("want message_too_big without reconnect, got %v (reconnects %d)", err, c.Reconnects())
	}
}

func TestServerClose1009FailsThatMessageAndTheClientRecovers(t *testing.T) {
	ctx := testContext(t)
	c := dial(t, Options{})
	c.mu.Lock()
	c.hello.MaxFrameBytes = 1 << 30 // pretend the server allowed it, so the frame reaches it and it closes with 1009
	c.mu.Unlock()
	r, err := c.Send(ctx, strings.Repeat("z", 20000))
	if err != nil {
		t.Fatal(err)
	}
	_, err = r.Final(ctx)
	var e *Error
	if !errors.Is(err, ErrMessageTooBig) || !errors.As(err, &e) || e.CloseCode != 1009 {
		t.Fatalf("want message_too_big with close 1009, got %#v", err)
	}
	if _, err := c.Ask(ctx, "after the big one"); err != nil {
		t.Fatal(err)
	}
	if c.Reconnects() < 1 {
		t.Fatal("expected a reconnect after the 1009 close")
	}
}

func TestHistoryReturnsTheConversation(t *testing.T) {
	ctx := testContext(t)
	c := dial(t, Options{})
	if _, err := c.Ask(ctx, "history please"); err != nil {
		t.Fatal(err)
	}
	messages, err := c.History(ctx, 10)
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, m := range messages {
		if m["text"] == "history please" {
			found = true
		}
		if m["direction"] == nil {
			t.Fatalf("history message without direction: %v", m)
		}
	}
	if !found {
		t.Fatalf("own message missing from history: %v", messages)
	}
}

func TestCancelledContextLeavesTheMessageInFlight(t *testing.T) {
	ctx := testContext(t)
	c := dial(t, Options{})
	r, err := c.Send(ctx, "slow or not")
	if err != nil {
		t.Fatal(err)
	}
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := r.Final(cancelled); !errors.Is(err, context.Canceled) {
		t.Fatalf("want context.Canceled, got %v", err)
	}
	if _, err := c.Send(cancelled, "never sent"); !errors.Is(err, context.Canceled) {
		t.Fatalf("want context.Canceled from Send, got %v", err)
	}
	if final, err := r.Final(ctx); err != nil || strings.TrimSpace(final.Text) == "" {
		t.Fatalf("reply lost after a cancelled wait: %v %v", final, err)
	}
}

func TestServerHeartbeatsAreAnsweredSoAnIdleClientStaysConnected(t *testing.T) {
	c := dial(t, Options{})
	if c.Hello().HeartbeatIntervalMs != 1000 {
		t.Fatalf("hello %+v", c.Hello())
	}
	time.Sleep(4500 * time.Millisecond) // > interval + timeout: an unanswered ping would have closed the connection
	if _, err := c.Ask(testContext(t), "still connected?"); err != nil {
		t.Fatal(err)
	}
	if c.Reconnects() != 0 {
		t.Fatalf("reconnected %d times while idle", c.Reconnects())
	}
}

func TestPingRoundTrip(t *testing.T) {
	c := dial(t, Options{})
	pong, err := c.Ping(testContext(t))
	if err != nil || pong["type"] != "pong" {
		t.Fatalf("pong %v err %v", pong, err)
	}
}

func TestCloseFailsWaitersWithErrClosed(t *testing.T) {
	c := dial(t, Options{})
	_ = c.Close()
	if _, err := c.Send(context.Background(), "after close"); !errors.Is(err, ErrClosed) {
		t.Fatalf("want ErrClosed, got %v", err)
	}
	if _, open := <-c.Events(); open {
		t.Fatal("events channel still open after Close")
	}
}

func TestBackoffGrowsExponentiallyUpToTheCap(t *testing.T) {
	b := Backoff{Initial: 100 * time.Millisecond, Factor: 2, Max: time.Second, MaxAttempts: 5, NoJitter: true}
	want := []time.Duration{100, 200, 400, 800, 1000, 1000}
	for n, w := range want {
		if got := b.Delay(n); got != w*time.Millisecond {
			t.Fatalf("delay %d = %v, want %v", n, got, w*time.Millisecond)
		}
	}
	if !b.Allows(4) || b.Allows(5) {
		t.Fatal("MaxAttempts not honoured")
	}
	j := Backoff{Initial: 100 * time.Millisecond, Factor: 2, Max: time.Second}
	for n := 0; n < 20; n++ {
		if d := j.Delay(n); d < 0 || d > time.Second {
			t.Fatalf("jittered delay %v out of range", d)
		}
	}
}
