// Package moltbot is a client for the MoltBot WebSocket gateway (/ws, protocol version 1, docs/protocol.md).
//
// The client reconnects on its own (exponential backoff) and resumes its session from the last sequence
// number it saw, so every event of a reply arrives exactly once across connection drops.
package moltbot

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"net"
	"sort"
	"sync"
	"time"

	"github.com/gorilla/websocket"
)

// ProtocolVersion is the gateway protocol version this SDK speaks.
const ProtocolVersion = 1

const (
	closeMessageTooBig    = 1009
	closeTryAgainLater    = 1013 // Gateway:MaxSessions reached
	closeAuthFailed       = 4001
	closeAuthTimeout      = 4002
	closeSessionTakenOver = 4009
	maxCompletedIDs       = 10000
)

// Options configure a Client. Token is required.
type Options struct {
	Token           string
	User            string // optional: the MoltBot user id (the server picks one otherwise)
	Conversation    string // optional: the conversation id (default: the user id)
	Lang            string
	Backoff         *Backoff      // nil: DefaultBackoff
	ConnectTimeout  time.Duration // per connection attempt; 0: 10 s
	EventBuffer     int           // unread Events kept; 0: 1000 (the oldest are dropped and counted)
	ProtocolVersion int           // 0: ProtocolVersion (tests set another to check the mismatch error)
	// NetDialContext, when set, opens the TCP connections (proxies, custom transports, tests).
	NetDialContext func(ctx context.Context, network, addr string) (net.Conn, error)
}

// Client is safe for concurrent use.
type Client struct {
	url    string
	opts   Options
	ctx    context.Context // lives until Close
	cancel context.CancelFunc
	done   chan struct{} // closed when the reader goroutine has exited
	events chan Event

	writeMu sync.Mutex // gorilla allows one writer at a time

	mu             sync.Mutex
	conn           *websocket.Conn
	epoch          int
	hello          Hello
	sessionID      string
	userID         string
	conversationID string
	lastSeq        int64
	idle           time.Duration // read deadline: no frame and no ping for this long means a dead link
	resendAfter    int64         // >= 0: resend unacknowledged messages once lastSeq reaches it (replay is through)
	pending        map[string]*Reply
	sent           uint64
	completed      map[string]struct{}
	completedOrder []string
	history        []*historyRequest
	pings          map[string]chan frame
	fatal          error
	closed         bool
	reconnects     int
	replayed       int64 // events the server kept while we were away and replayed on resume
	droppedEvents  int
	trace          []TraceEntry // tests: accepted events, to prove exactly-once delivery
	tracing        bool
}

// TraceEntry is one accepted server event (tests).
type TraceEntry struct {
	Seq  int64
	Type string
}

type historyRequest struct {
	data   []byte
	epoch  int
	result chan frame // buffered 1
}

// Dial connects, checks the server's protocol version and authenticates. Errors: *Error with code
// auth_failed (bad token), protocol_mismatch, or a network error.
func Dial(ctx context.Context, url string, opts Options) (*Client, error) {
	if opts.Backoff == nil {
		b := DefaultBackoff
		opts.Backoff = &b
	}
	if opts.ConnectTimeout <= 0 {
		opts.ConnectTimeout = 10 * time.Second
	}
	if opts.EventBuffer <= 0 {
		opts.EventBuffer = 1000
	}
	if opts.ProtocolVersion == 0 {
		opts.ProtocolVersion = ProtocolVersion
	}
	life, cancel := context.WithCancel(context.Background())
	c := &Client{url: url, opts: opts, ctx: life, cancel: cancel, done: make(chan struct{}),
		events: make(chan Event, opts.EventBuffer), resendAfter: -1, pending: map[string]*Reply{},
		completed: map[string]struct{}{}, pings: map[string]chan frame{}}
	if err := c.open(ctx); err != nil {
		cancel()
		return nil, err
	}
	go c.run()
	return c, nil
}

// Hello is the server's hello of the current connection.
func (c *Client) Hello() Hello { c.mu.Lock(); defer c.mu.Unlock(); return c.hello }

// SessionID is the resumable session.
func (c *Client) SessionID() string { c.mu.Lock(); defer c.mu.Unlock(); return c.sessionID }

// LastSeq is the last server sequence number seen.
func (c *Client) LastSeq() int64 { c.mu.Lock(); defer c.mu.Unlock(); return c.lastSeq }

// Reconnects counts successful reconnects.
func (c *Client) Reconnects() int { c.mu.Lock(); defer c.mu.Unlock(); return c.reconnects }

// ReplayedEvents counts events the server kept while the client was away and replayed on resume.
func (c *Client) ReplayedEvents() int64 { c.mu.Lock(); defer c.mu.Unlock(); return c.replayed }

// DroppedEvents counts Events dropped because nobody read them.
func (c *Client) DroppedEvents() int { c.mu.Lock(); defer c.mu.Unlock(); return c.droppedEvents }

// Events delivers what is not tied to a pending message: *Typing, proactive *FinalReply, uncorrelated *Error.
// It is closed when the client is closed or fails for good.
func (c *Client) Events() <-chan Event { return c.events }

// SendOption customizes Send.
type SendOption func(*sendOptions)

type sendOptions struct{ id, lang string }

// WithID sets the client message id. Sending an id again is idempotent: the server answers with the
// original acknowledgement and reply instead of handling the message twice.
func WithID(id string) SendOption { return func(o *sendOptions) { o.id = id } }

// WithLang sets the message language.
func WithLang(lang string) SendOption { return func(o *sendOptions) { o.lang = lang } }

// Send sends a message and returns its Reply handle. While reconnecting, the message is queued and sent
// (once) when the session is back.
func (c *Client) Send(ctx context.Context, text string, options ...SendOption) (*Reply, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	o := sendOptions{}
	for _, opt := range options {
		opt(&o)
	}
	if o.id == "" {
		o.id = newID()
	}
	f := map[string]any{"type": "send", "id": o.id, "text": text}
	if o.lang != "" {
		f["lang"] = o.lang
	}
	data, err := json.Marshal(f)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	if err := c.usableLocked(); err != nil {
		c.mu.Unlock()
		return nil, err
	}
	if r, ok := c.pending[o.id]; ok {
		c.mu.Unlock()
		return r, nil
	}
	if max := c.hello.MaxFrameBytes; max > 0 && len(data) > max {
		c.mu.Unlock()
		// The server would close the connection with 1009; refuse here so nothing else in flight is disturbed.
		return nil, &Error{Code: "message_too_big", CloseCode: closeMessageTooBig, MessageID: o.id,
			Message: "frame of " + itoa(len(data)) + " bytes exceeds the server's maxFrameBytes " + itoa(max)}
	}
	c.sent++
	r := newReply(o.id, data, c.sent)
	delete(c.completed, o.id) // an explicit resend of a finished id gets the original reply again
	c.pending[o.id] = r
	conn, epoch := c.conn, c.epoch
	canSend := conn != nil && c.resendAfter < 0
	if canSend {
		r.epoch = epoch
	}
	c.mu.Unlock()
	if canSend {
		c.transmit(conn, epoch, data, func() { r.epoch = -1 })
	}
	return r, nil
}

// Ask sends a message and waits for its final reply.
func (c *Client) Ask(ctx context.Context, text string, options ...SendOption) (*FinalReply, error) {
	r, err := c.Send(ctx, text, options...)
	if err != nil {
		return nil, err
	}
	return r.Final(ctx)
}

// History returns the last limit messages of the conversation.
func (c *Client) History(ctx context.Context, limit int) ([]HistoryMessage, error) {
	data, _ := json.Marshal(map[string]any{"type": "history", "limit": limit})
	req := &historyRequest{data: data, epoch: -1, result: make(chan frame, 1)}
	c.mu.Lock()
	if err := c.usableLocked(); err != nil {
		c.mu.Unlock()
		return nil, err
	}
	// Answers come in request order; an abandoned request stays queued so the order keeps matching.
	c.history = append(c.history, req)
	conn, epoch := c.conn, c.epoch
	canSend := conn != nil && c.resendAfter < 0
	if canSend {
		req.epoch = epoch
	}
	c.mu.Unlock()
	if canSend {
		c.transmit(conn, epoch, data, func() { req.epoch = -1 })
	}
	select {
	case f, ok := <-req.result:
		if !ok {
			return nil, c.failure()
		}
		raw, _ := f["messages"].([]any)
		out := make([]HistoryMessage, 0, len(raw))
		for _, m := range raw {
			if mm, ok := m.(map[string]any); ok {
				out = append(out, HistoryMessage(mm))
			}
		}
		return out, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// Typing tells the server the user is typing.
func (c *Client) Typing(ctx context.Context, active bool) error {
	data, _ := json.Marshal(map[string]any{"type": "typing", "active": active})
	return c.sendNow(data)
}

// Ping is an application-level round trip; it returns the pong frame's fields.
func (c *Client) Ping(ctx context.Context) (map[string]any, error) {
	nonce := newID()
	ch := make(chan frame, 1)
	c.mu.Lock()
	c.pings[nonce] = ch
	c.mu.Unlock()
	defer func() { c.mu.Lock(); delete(c.pings, nonce); c.mu.Unlock() }()
	data, _ := json.Marshal(map[string]any{"type": "ping", "nonce": nonce})
	if err := c.sendNow(data); err != nil {
		return nil, err
	}
	select {
	case f, ok := <-ch:
		if !ok {
			return nil, c.failure()
		}
		return f, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// Close closes the connection; pending operations fail with ErrClosed.
func (c *Client) Close() error {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		<-c.done
		return nil
	}
	c.closed = true
	conn := c.conn
	c.mu.Unlock()
	c.cancel()
	if conn != nil {
		_ = conn.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseNormalClosure, "bye"),
			time.Now().Add(time.Second))
		_ = conn.Close()
	}
	<-c.done
	return nil
}

// ---- connection ----------------------------------------------------------------------------------------------

func (c *Client) open(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, c.opts.ConnectTimeout)
	defer cancel()
	dialer := websocket.Dialer{HandshakeTimeout: c.opts.ConnectTimeout, NetDialContext: c.opts.NetDialContext}
	conn, _, err := dialer.DialContext(ctx, c.url, nil)
	if err != nil {
		return err
	}
	// Unblocks the handshake reads below if ctx ends first.
	stop := make(chan struct{})
	defer close(stop)
	go func() {
		select {
		case <-ctx.Done():
			_ = conn.Close()
		case <-stop:
		}
	}()
	conn.SetReadLimit(16 << 20)
	hello, err := c.handshake(conn)
	if err != nil {
		_ = conn.Close()
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return err
	}
	return c.attach(conn, hello)
}

func (c *Client) handshake(conn *websocket.Conn) (*sessionResult, error) {
	var hf frame
	if err := readFrame(conn, &hf); err != nil {
		return nil, err
	}
	hello, err := c.checkHello(hf)
	if err != nil {
		return nil, err
	}
	auth := map[string]any{"type": "auth", "token": c.opts.Token}
	c.mu.Lock()
	for k, v := range map[string]string{"user": c.opts.User, "conversation": c.opts.Conversation, "lang": c.opts.Lang} {
		if v != "" {
			auth[k] = v
		}
	}
	if c.sessionID != "" {
		auth["resume"] = map[string]any{"session": c.sessionID, "lastSeq": c.lastSeq}
	}
	c.mu.Unlock()
	data, _ := json.Marshal(auth)
	if err := conn.WriteMessage(websocket.TextMessage, data); err != nil {
		return nil, err
	}
	res := &sessionResult{hello: hello}
	for {
		var f frame
		if err := readFrame(conn, &f); err != nil {
			return nil, err
		}
		switch {
		case f.str("type") == "session":
			res.session = f
			return res, nil
		case f.str("type") == "error" && f.str("code") == "resume_failed":
			res.resumeErr = errorFromFrame(f)
		case f.str("type") == "error":
			return nil, errorFromFrame(f)
		}
	}
}

type sessionResult struct {
	hello     Hello
	session   frame
	resumeErr *Error
}

func (c *Client) checkHello(f frame) (Hello, error) {
	if f.str("type") != "hello" {
		return Hello{}, newError("invalid_hello", "expected a hello frame, got %q", f.str("type"))
	}
	version := int(f.num("protocol"))
	if version != c.opts.ProtocolVersion {
		return Hello{}, &Error{Code: "protocol_mismatch", Message: "server speaks protocol version " + itoa(version) +
			", this SDK speaks " + itoa(c.opts.ProtocolVersion) + "; use a matching SDK release"}
	}
	limits, _ := f["limits"].(map[string]any)
	lf := frame(limits)
	return Hello{Protocol: version, HeartbeatIntervalMs: int(f.num("heartbeatIntervalMs")),
		HeartbeatTimeoutMs: int(f.num("heartbeatTimeoutMs")), MaxFrameBytes: int(lf.num("maxFrameBytes")),
		MaxTextLength: int(lf.num("maxTextLength")), Raw: f}, nil
}

// attach makes conn the live connection and settles what the previous one left behind.
func (c *Client) attach(conn *websocket.Conn, res *sessionResult) error {
	idle := time.Duration(0)
	if res.hello.HeartbeatIntervalMs > 0 {
		// The server pings every interval; silence for two intervals plus its timeout means a dead link.
		idle = time.Duration(2*res.hello.HeartbeatIntervalMs+res.hello.HeartbeatTimeoutMs)*time.Millisecond + time.Second
	}
	extend := func() {
		if idle > 0 {
			_ = conn.SetReadDeadline(time.Now().Add(idle))
		} else {
			_ = conn.SetReadDeadline(time.Time{})
		}
	}
	extend()
	conn.SetPingHandler(func(data string) error {
		extend()
		err := conn.WriteControl(websocket.PongMessage, []byte(data), time.Now().Add(5*time.Second))
		if errors.Is(err, websocket.ErrCloseSent) {
			return nil
		}
		return err
	})

	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		_ = conn.Close()
		return ErrClosed
	}
	c.epoch++
	c.conn = conn
	c.idle = idle
	c.hello = res.hello
	c.sessionID = res.session.str("session")
	c.userID = res.session.str("user")
	c.conversationID = res.session.str("conversation")
	if c.opts.User == "" {
		c.opts.User = c.userID // a new session after a failed resume keeps the user and conversation
	}
	if c.opts.Conversation == "" {
		c.opts.Conversation = c.conversationID
	}
	if res.session.boolean("resumed") {
		if missed := int64(res.session.num("lastSeq")) - c.lastSeq; missed > 0 {
			c.replayed += missed
		}
	}
	if res.resumeErr != nil || !res.session.boolean("resumed") {
		c.lastSeq = 0
		if res.resumeErr != nil {
			c.failSentLocked(&Error{Code: res.resumeErr.Code, Message: res.resumeErr.Message})
		}
	}
	c.resendAfter = int64(res.session.num("lastSeq"))
	c.maybeResendLocked()
	return nil
}

func (c *Client) run() {
	defer close(c.done)
	for {
		c.mu.Lock()
		conn := c.conn
		c.mu.Unlock()
		var f frame
		_, data, err := conn.ReadMessage()
		if err == nil {
			c.mu.Lock()
			idle := c.idle
			c.mu.Unlock()
			if idle > 0 { // traffic proves the link is alive, like the server's pings
				_ = conn.SetReadDeadline(time.Now().Add(idle))
			}
			if jerr := json.Unmarshal(data, &f); jerr != nil {
				c.publish(newError("invalid_json", "the server sent a frame that is not JSON"))
				continue
			}
			c.dispatch(f)
			continue
		}
		if c.isClosed() {
			c.shutdown(ErrClosed)
			return
		}
		if !c.recover(err) {
			return
		}
	}
}

func (c *Client) recover(readErr error) bool {
	code, reason := 0, readErr.Error()
	var ce *websocket.CloseError
	if errors.As(readErr, &ce) {
		code, reason = ce.Code, ce.Text
	}
	switch code {
	case closeAuthFailed, closeAuthTimeout, closeSessionTakenOver:
		c.shutdown(errorFromClose(code, reason))
		return false
	case closeMessageTooBig:
		// Only an unacknowledged message can have been too big; resending it would close the connection again.
		e := errorFromClose(code, reason)
		c.mu.Lock()
		for id, r := range c.pending {
			if !r.isAcked() && r.epoch == c.epoch {
				delete(c.pending, id)
				r.fail(e)
			}
		}
		c.mu.Unlock()
	}
	c.mu.Lock()
	c.conn = nil
	c.mu.Unlock()
	for attempt := 0; ; attempt++ {
		if !c.opts.Backoff.Allows(attempt) {
			c.shutdown(&Error{Code: "connection_lost", CloseCode: code,
				Message: "could not reconnect after " + itoa(attempt) + " attempts: " + reason})
			return false
		}
		select {
		case <-time.After(c.opts.Backoff.Delay(attempt)):
		case <-c.ctx.Done():
			c.shutdown(ErrClosed)
			return false
		}
		err := c.open(c.ctx)
		if err == nil {
			c.mu.Lock()
			c.reconnects++
			c.mu.Unlock()
			return true
		}
		if c.isClosed() {
			c.shutdown(ErrClosed)
			return false
		}
		var me *Error
		if errors.As(err, &me) && (me.Code == "auth_failed" || me.Code == "auth_timeout" || me.Code == "protocol_mismatch") {
			c.shutdown(me)
			return false
		}
	}
}

func (c *Client) dispatch(f frame) {
	c.mu.Lock()
	if seqValue, ok := f["seq"].(float64); ok {
		seq := int64(seqValue)
		if seq <= c.lastSeq {
			c.mu.Unlock()
			return // already seen (resume replays from our lastSeq; this guards against overlap)
		}
		c.lastSeq = seq
		if c.tracing {
			c.trace = append(c.trace, TraceEntry{seq, f.str("type")})
		}
	}
	replyTo := f.str("replyTo")
	var event Event
	switch f.str("type") {
	case "ack":
		if r := c.pending[f.str("id")]; r != nil {
			r.onAck(&Ack{ID: f.str("id"), MessageID: f.str("messageId"), Duplicate: f.boolean("duplicate")})
		}
	case "reply.delta":
		if r := c.pending[replyTo]; r != nil {
			r.onDelta(f.str("text"))
		} else if _, done := c.completed[replyTo]; !done {
			event = &Delta{ReplyTo: replyTo, MessageID: f.str("messageId"), Text: f.str("text")}
		}
	case "reply.final":
		if r := c.pending[replyTo]; r != nil {
			delete(c.pending, replyTo)
			c.rememberCompletedLocked(replyTo)
			r.onFinal(finalFrom(f))
		} else if replyTo == "" {
			event = finalFrom(f) // proactive message (e.g. a reminder)
		} // else: a duplicate final of a message already answered: delivered once, so dropped here
	case "typing":
		event = &Typing{ReplyTo: replyTo, Active: f.boolean("active")}
	case "history":
		if len(c.history) > 0 {
			req := c.history[0]
			c.history = c.history[1:]
			req.result <- f
		}
	case "pong":
		if ch := c.pings[f.str("nonce")]; ch != nil {
			select {
			case ch <- f:
			default:
			}
		}
	case "error":
		e := errorFromFrame(f)
		if r := c.pending[e.MessageID]; e.MessageID != "" && r != nil {
			delete(c.pending, e.MessageID)
			r.fail(e)
		} else {
			event = e
		}
	}
	c.maybeResendLocked()
	c.mu.Unlock()
	if event != nil {
		c.publish(event)
	}
}

// maybeResendLocked resends, once the replay after a resume is through, what the server never acknowledged.
func (c *Client) maybeResendLocked() {
	if c.resendAfter < 0 || c.lastSeq < c.resendAfter || c.conn == nil {
		return
	}
	c.resendAfter = -1
	conn, epoch := c.conn, c.epoch
	var replies []*Reply
	for _, r := range c.pending {
		if r.epoch != epoch && !r.isAcked() {
			replies = append(replies, r)
		}
	}
	sort.Slice(replies, func(i, j int) bool { return replies[i].order < replies[j].order })
	var frames [][]byte
	for _, r := range replies {
		r.epoch = epoch
		frames = append(frames, r.data)
	}
	for _, h := range c.history {
		if h.epoch != epoch {
			h.epoch = epoch
			frames = append(frames, h.data)
		}
	}
	if len(frames) > 0 {
		// Written outside the lock; a failure is noticed by the reader, which reconnects and resends again.
		go func() {
			for _, data := range frames {
				if c.write(conn, data) != nil {
					return
				}
			}
		}()
	}
}

func (c *Client) transmit(conn *websocket.Conn, epoch int, data []byte, unsent func()) {
	if err := c.write(conn, data); err != nil {
		c.mu.Lock()
		if c.epoch == epoch {
			unsent()
		}
		c.mu.Unlock()
	}
}

func (c *Client) write(conn *websocket.Conn, data []byte) error {
	c.writeMu.Lock()
	defer c.writeMu.Unlock()
	_ = conn.SetWriteDeadline(time.Now().Add(c.opts.ConnectTimeout))
	return conn.WriteMessage(websocket.TextMessage, data)
}

func (c *Client) sendNow(data []byte) error {
	c.mu.Lock()
	if err := c.usableLocked(); err != nil {
		c.mu.Unlock()
		return err
	}
	conn := c.conn
	c.mu.Unlock()
	if conn == nil {
		return ErrNotConnected
	}
	if err := c.write(conn, data); err != nil {
		return &Error{Code: ErrNotConnected.Code, Message: err.Error()}
	}
	return nil
}

// ---- bookkeeping ---------------------------------------------------------------------------------------------

func (c *Client) publish(e Event) {
	for {
		select {
		case c.events <- e:
			return
		default:
		}
		select {
		case <-c.events: // nobody reads: drop the oldest, count it
			c.mu.Lock()
			c.droppedEvents++
			c.mu.Unlock()
		default:
		}
	}
}

func (c *Client) rememberCompletedLocked(id string) {
	c.completed[id] = struct{}{}
	c.completedOrder = append(c.completedOrder, id)
	if len(c.completedOrder) > maxCompletedIDs {
		delete(c.completed, c.completedOrder[0])
		c.completedOrder = c.completedOrder[1:]
	}
}

func (c *Client) usableLocked() error {
	if c.fatal != nil {
		return c.fatal
	}
	if c.closed {
		return ErrClosed
	}
	return nil
}

func (c *Client) isClosed() bool { c.mu.Lock(); defer c.mu.Unlock(); return c.closed }

func (c *Client) failure() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.fatal != nil {
		return c.fatal
	}
	return ErrClosed
}

// failSentLocked fails what went out on a session that is gone (a failed resume); unsent messages stay queued.
func (c *Client) failSentLocked(err error) {
	for id, r := range c.pending {
		if r.epoch >= 0 {
			delete(c.pending, id)
			r.fail(err)
		}
	}
	kept := c.history[:0]
	for _, h := range c.history {
		if h.epoch >= 0 {
			close(h.result)
		} else {
			kept = append(kept, h)
		}
	}
	c.history = kept
}

// shutdown ends the client for good (reader goroutine only): everything waiting fails with err.
func (c *Client) shutdown(err error) {
	c.mu.Lock()
	if c.fatal == nil && !errors.Is(err, ErrClosed) {
		c.fatal = err
	}
	for id, r := range c.pending {
		delete(c.pending, id)
		r.fail(err)
	}
	for _, h := range c.history {
		close(h.result)
	}
	c.history = nil
	for nonce, ch := range c.pings {
		close(ch)
		delete(c.pings, nonce)
	}
	conn := c.conn
	c.conn = nil
	c.mu.Unlock()
	if conn != nil {
		_ = conn.Close()
	}
	close(c.events)
}

// abortConnectionForTests drops the TCP connection without a close handshake, as a network failure would.
func (c *Client) abortConnectionForTests() {
	c.mu.Lock()
	conn := c.conn
	c.mu.Unlock()
	if conn != nil {
		_ = conn.UnderlyingConn().Close()
	}
}

func readFrame(conn *websocket.Conn, f *frame) error {
	_, data, err := conn.ReadMessage()
	if err != nil {
		var ce *websocket.CloseError
		if errors.As(err, &ce) {
			return errorFromClose(ce.Code, ce.Text)
		}
		return err
	}
	if err := json.Unmarshal(data, f); err != nil {
		return newError("invalid_json", "the server sent a frame that is not JSON")
	}
	return nil
}

func newID() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

func itoa(n int) string {
	b, _ := json.Marshal(n)
	return string(b)
}
