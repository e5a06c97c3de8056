package moltbot

// Edge cases the real dialog manager cannot produce on demand (streamed deltas cut mid-reply, an overlapping
// replay, a failed resume), driven by a scripted server that speaks docs/protocol.md's wire format.

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

type scriptedGateway struct {
	server *httptest.Server
	url    string
	mu     sync.Mutex
	auths  []map[string]any
	sends  []map[string]any
}

// newScriptedGateway runs script(conn, connectionNumber) for every connection after hello and auth.
func newScriptedGateway(t *testing.T, script func(g *scriptedGateway, conn *websocket.Conn, n int)) *scriptedGateway {
	return newScriptedGatewayWithHeartbeat(t, 15000, script)
}

func newScriptedGatewayWithHeartbeat(t *testing.T, heartbeatMs int, script func(g *scriptedGateway, conn *websocket.Conn, n int)) *scriptedGateway {
	g := &scriptedGateway{}
	upgrader := websocket.Upgrader{}
	g.server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		conn, err := upgrader.Upgrade(w, r, nil)
		if err != nil {
			return
		}
		defer conn.Close()
		_ = conn.WriteJSON(map[string]any{"type": "hello", "protocol": 1, "heartbeatIntervalMs": heartbeatMs,
			"heartbeatTimeoutMs": heartbeatMs, "limits": map[string]any{"maxFrameBytes": 65536, "maxTextLength": 8000}})
		var auth map[string]any
		if conn.ReadJSON(&auth) != nil {
			return
		}
		g.mu.Lock()
		g.auths = append(g.auths, auth)
		n := len(g.auths)
		g.mu.Unlock()
		script(g, conn, n)
	}))
	g.url = "ws" + strings.TrimPrefix(g.server.URL, "http") + "/ws"
	t.Cleanup(g.server.Close)
	return g
}

func (g *scriptedGateway) nextSend(conn *websocket.Conn) map[string]any {
	var f map[string]any
	_ = conn.ReadJSON(&f)
	g.mu.Lock()
	g.sends = append(g.sends, f)
	g.mu.Unlock()
	return f
}

func (g *scriptedGateway) snapshot() (auths, sends []map[string]any) {
	g.mu.Lock()
	defer g.mu.Unlock()
	return append(auths, g.auths...), append(sends, g.sends...)
}

func session(id string, resumed bool, lastSeq int) map[string]any {
	return map[string]any{"type": "session", "session": id, "user": "u", "conversation": "u", "resumed": resumed, "lastSeq": lastSeq}
}

func scriptedDial(t *testing.T, url string) *Client {
	c, err := Dial(testContext(t), url, Options{Token: strings.Repeat("t", 16),
		Backoff: &Backoff{Initial: 10 * time.Millisecond, Factor: 2, Max: 50 * time.Millisecond, MaxAttempts: 20}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}

func TestScriptedDeltasCutMidReplyResumeWithAnOverlappingReplayExactlyOnce(t *testing.T) {
	g := newScriptedGateway(t, func(g *scriptedGateway, conn *websocket.Conn, n int) {
		if n == 1 {
			_ = conn.WriteJSON(session("s1", false, 0))
			id := g.nextSend(conn)["id"]
			_ = conn.WriteJSON(map[string]any{"type": "ack", "seq": 1, "id": id, "messageId": "m1", "duplicate": false})
			_ = conn.WriteJSON(map[string]any{"type": "reply.delta", "seq": 2, "replyTo": id, "messageId": "m1", "text": "Hel"})
			_ = conn.WriteJSON(map[string]any{"type": "reply.delta", "seq": 3, "replyTo": id, "messageId": "m1", "text": "lo"})
			time.Sleep(200 * time.Millisecond)
			_ = conn.UnderlyingConn().Close() // no close frame: a network failure
			return
		}
		_ = conn.WriteJSON(session("s1", true, 5))
		// The replay starts one event early (seq 3 again): the client must drop it.
		_ = conn.WriteJSON(map[string]any{"type": "reply.delta", "seq": 3, "replyTo": "c1", "messageId": "m1", "text": "lo"})
		_ = conn.WriteJSON(map[string]any{"type": "reply.delta", "seq": 4, "replyTo": "c1", "messageId": "m1", "text": " world"})
		_ = conn.WriteJSON(map[string]any{"type": "reply.final", "seq": 5, "replyTo": "c1", "messageId": "m1", "text": "Hello world"})
		time.Sleep(time.Second)
	})
	ctx := testContext(t)
	c := scriptedDial(t, g.url)
	r, err := c.Send(ctx, "hi", WithID("c1"))
	if err != nil {
		t.Fatal(err)
	}
	deltas := collect(ctx, r)
	final, err := r.Final(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(deltas, []string{"Hel", "lo", " world"}) || final.Text != strings.Join(deltas, "") {
		t.Fatalf("deltas %q final %q", deltas, final.Text)
	}
	auths, sends := g.snapshot()
	resume, _ := auths[1]["resume"].(map[string]any)
	if resume["session"] != "s1" || resume["lastSeq"] != float64(3) || len(sends) != 1 {
		t.Fatalf("resume %v, sends %v (acked before the drop: never resent)", auths[1]["resume"], sends)
	}
}

func TestScriptedUnacknowledgedMessageIsResentWithTheSameID(t *testing.T) {
	g := newScriptedGateway(t, func(g *scriptedGateway, conn *websocket.Conn, n int) {
		if n == 1 {
			_ = conn.WriteJSON(session("s1", false, 0))
			g.nextSend(conn)
			_ = conn.UnderlyingConn().Close() // not acknowledged
			return
		}
		_ = conn.WriteJSON(session("s1", true, 0))
		id := g.nextSend(conn)["id"]
		_ = conn.WriteJSON(map[string]any{"type": "ack", "seq": 1, "id": id, "messageId": "m1", "duplicate": false})
		_ = conn.WriteJSON(map[string]any{"type": "reply.final", "seq": 2, "replyTo": id, "messageId": "m1", "text": "done"})
		time.Sleep(time.Second)
	})
	c := scriptedDial(t, g.url)
	final, err := c.Ask(testContext(t), "hi", WithID("c7"))
	if err != nil || final.Text != "done" {
		t.Fatalf("final %v err %v", final, err)
	}
	_, sends := g.snapshot()
	if len(sends) != 2 || sends[0]["id"] != "c7" || sends[1]["id"] != "c7" || c.Reconnects() != 1 {
		t.Fatalf("sends %v reconnects %d", sends, c.Reconnects())
	}
}

func TestScriptedFailedResumeFailsTheSentMessageAndContinuesOnANewSession(t *testing.T) {
	g := newScriptedGateway(t, func(g *scriptedGateway, conn *websocket.Conn, n int) {
		if n == 1 {
			_ = conn.WriteJSON(session("s1", false, 0))
			id := g.nextSend(conn)["id"]
			_ = conn.WriteJSON(map[string]any{"type": "ack", "seq": 1, "id": id, "messageId": "m1", "duplicate": false})
			_ = conn.UnderlyingConn().Close()
			return
		}
		_ = conn.WriteJSON(map[string]any{"type": "error", "code": "resume_failed", "message": "Cannot resume: the session has expired"})
		_ = conn.WriteJSON(session("s2", false, 0))
		id := g.nextSend(conn)["id"]
		_ = conn.WriteJSON(map[string]any{"type": "ack", "seq": 1, "id": id, "messageId": "m2", "duplicate": false})
		_ = conn.WriteJSON(map[string]any{"type": "reply.final", "seq": 2, "replyTo": id, "messageId": "m2", "text": "fresh"})
		time.Sleep(time.Second)
	})
	ctx := testContext(t)
	c := scriptedDial(t, g.url)
	r, err := c.Send(ctx, "lost")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.Final(ctx); !errors.Is(err, ErrResumeFailed) {
		t.Fatalf("want resume_failed, got %v", err)
	}
	if c.SessionID() != "s2" {
		t.Fatalf("session %q", c.SessionID())
	}
	auths, _ := g.snapshot()
	if auths[1]["user"] != "u" {
		t.Fatalf("the new session must keep the user: %v", auths[1])
	}
	if final, err := c.Ask(ctx, "again"); err != nil || final.Text != "fresh" {
		t.Fatalf("final %v err %v", final, err)
	}
}

func TestScriptedSilentConnectionIsDetectedByTheReadDeadlineAndResumed(t *testing.T) {
	// Heartbeat 200 ms: no frame and no ping for 2 intervals + timeout + 1 s means the path is dead.
	g := newScriptedGatewayWithHeartbeat(t, 200, func(g *scriptedGateway, conn *websocket.Conn, n int) {
		if n == 1 {
			_ = conn.WriteJSON(session("s1", false, 0))
			id := g.nextSend(conn)["id"]
			_ = conn.WriteJSON(map[string]any{"type": "ack", "seq": 1, "id": id, "messageId": "m1", "duplicate": false})
			time.Sleep(5 * time.Second) // the path goes silent without closing: no FIN, no RST, no pings
			return
		}
		_ = conn.WriteJSON(session("s1", true, 2))
		_ = conn.WriteJSON(map[string]any{"type": "reply.final", "seq": 2, "replyTo": "c9", "messageId": "m1", "text": "late"})
		time.Sleep(time.Second)
	})
	c := scriptedDial(t, g.url)
	final, err := c.Ask(testContext(t), "hi", WithID("c9"))
	if err != nil || final.Text != "late" || c.Reconnects() != 1 {
		t.Fatalf("final %v err %v reconnects %d", final, err, c.Reconnects())
	}
	auths, _ := g.snapshot()
	if resume, _ := auths[1]["resume"].(map[string]any); resume["lastSeq"] != float64(1) {
		t.Fatalf("resume %v", auths[1]["resume"])
	}
}
