package moltbot

// Hello is the server's first frame.
type Hello struct {
	Protocol            int
	HeartbeatIntervalMs int
	HeartbeatTimeoutMs  int
	MaxFrameBytes       int
	MaxTextLength       int
	Raw                 map[string]any
}

// Ack confirms that the server accepted a message (Duplicate: it was a resend of a known id).
type Ack struct {
	ID        string
	MessageID string
	Duplicate bool
}

// Event is what Client.Events delivers: *Typing, *Delta, *FinalReply (proactive) or *Error (uncorrelated).
type Event interface{}

// Delta is a streamed piece of a reply.
type Delta struct {
	ReplyTo   string
	MessageID string
	Text      string
}

// FinalReply is the complete reply to a message.
type FinalReply struct {
	ReplyTo     string
	MessageID   string
	Text        string
	Failed      bool
	Lang        string
	Source      string
	Card        any
	TimestampMs int64
}

// Typing says the bot is composing a reply.
type Typing struct {
	ReplyTo string
	Active  bool
}

// HistoryMessage is one message of the conversation history (fields: id, direction, user, text, timestampMs, lang, source).
type HistoryMessage map[string]any

func finalFrom(f frame) *FinalReply {
	return &FinalReply{ReplyTo: f.str("replyTo"), MessageID: f.str("messageId"), Text: f.str("text"), Failed: f.boolean("failed"),
		Lang: f.str("lang"), Source: f.str("source"), Card: f["card"], TimestampMs: int64(f.num("timestampMs"))}
}

// frame is a decoded JSON object with lenient typed accessors.
type frame map[string]any

func (f frame) str(k string) string {
	s, _ := f[k].(string)
	return s
}

func (f frame) num(k string) float64 {
	n, _ := f[k].(float64)
	return n
}

func (f frame) boolean(k string) bool {
	b, _ := f[k].(bool)
	return b
}
