package moltbot

import (
	"errors"
	"fmt"
)

// Error is every error the server reports or the client raises: Code is the protocol error code
// (docs/protocol.md, "Error codes"), CloseCode the WebSocket close code when the server closed the connection.
type Error struct {
	Code         string
	Message      string
	CloseCode    int
	MessageID    string
	RetryAfterMs int
}

func (e *Error) Error() string { return e.Code + ": " + e.Message }

// Is makes errors.Is(err, moltbot.ErrTextTooLong) match on the code.
func (e *Error) Is(target error) bool {
	var t *Error
	return errors.As(target, &t) && t.Code == e.Code
}

// Sentinels for errors.Is; the returned errors carry the details.
var (
	ErrAuthFailed       = &Error{Code: "auth_failed", Message: "missing or invalid token (close 4001)"}
	ErrAuthTimeout      = &Error{Code: "auth_timeout", Message: "no auth frame in time (close 4002)"}
	ErrProtocolMismatch = &Error{Code: "protocol_mismatch", Message: "server speaks another protocol version"}
	ErrMessageTooBig    = &Error{Code: "message_too_big", Message: "frame larger than the server's maxFrameBytes (close 1009)"}
	ErrTextTooLong      = &Error{Code: "text_too_long", Message: "text longer than the server's maxTextLength"}
	ErrRateLimited      = &Error{Code: "rate_limited", Message: "too many frames per second"}
	ErrResumeFailed     = &Error{Code: "resume_failed", Message: "the session could not be resumed"}
	ErrSessionTakenOver = &Error{Code: "session_taken_over", Message: "another connection resumed this session (close 4009)"}
	ErrConnectionLost   = &Error{Code: "connection_lost", Message: "could not reconnect"}
	ErrNotConnected     = &Error{Code: "not_connected", Message: "the client is reconnecting; try again"}
	ErrClosed           = &Error{Code: "client_closed", Message: "the client was closed"}
)

func newError(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

func errorFromFrame(f frame) *Error {
	code := f.str("code")
	if code == "" {
		code = "unknown"
	}
	return &Error{Code: code, Message: f.str("message"), MessageID: f.str("id"), RetryAfterMs: int(f.num("retryAfterMs"))}
}

func errorFromClose(code int, reason string) *Error {
	switch code {
	case closeAuthFailed:
		return &Error{Code: "auth_failed", Message: reason, CloseCode: code}
	case closeAuthTimeout:
		return &Error{Code: "auth_timeout", Message: reason, CloseCode: code}
	case closeMessageTooBig:
		return &Error{Code: "message_too_big", Message: reason, CloseCode: code}
	case closeSessionTakenOver:
		return &Error{Code: "session_taken_over", Message: reason, CloseCode: code}
	case closeTryAgainLater:
		return &Error{Code: "too_many_sessions", Message: reason, CloseCode: code} // retried with backoff
	}
	return &Error{Code: "connection_lost", Message: reason, CloseCode: code}
}
