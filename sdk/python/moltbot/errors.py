"""Typed errors. Every error carries the protocol error code (docs/protocol.md, "Error codes") and, when the
server closed the connection, the WebSocket close code."""

from typing import Optional


class MoltBotError(Exception):
    """Base class: ``code`` is the protocol error code (e.g. ``"text_too_long"``)."""

    def __init__(self, code: str, message: str, *, close_code: Optional[int] = None,
                 message_id: Optional[str] = None, retry_after_ms: Optional[int] = None):
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.close_code = close_code
        self.message_id = message_id
        self.retry_after_ms = retry_after_ms


class AuthenticationError(MoltBotError):
    """The server refused the token (close code 4001) or no auth frame arrived in time (4002)."""


class ProtocolVersionError(MoltBotError):
    """The server speaks a protocol version this SDK does not."""


class MessageTooBigError(MoltBotError):
    """A frame larger than the server's maxFrameBytes (the server would close with 1009)."""


class TextTooLongError(MoltBotError):
    """The text is longer than the server's maxTextLength (error frame ``text_too_long``)."""


class RateLimitedError(MoltBotError):
    """Too many frames per second (``rate_limited``); ``retry_after_ms`` may say when to try again."""


class ResumeFailedError(MoltBotError):
    """The session could not be resumed, so events of in-flight messages may be lost; they fail with this."""


class ConnectionLostError(MoltBotError):
    """The connection dropped and could not be re-established within the reconnect policy."""


class ClientClosedError(MoltBotError):
    """The client was closed while the operation was waiting."""


class MoltBotTimeoutError(MoltBotError, TimeoutError):
    """An operation did not complete within its timeout."""


_BY_CODE = {
    "text_too_long": TextTooLongError,
    "rate_limited": RateLimitedError,
    "resume_failed": ResumeFailedError,
    "auth_required": AuthenticationError,
    "auth_failed": AuthenticationError,
    "message_too_big": MessageTooBigError,
}


def error_from_frame(frame: dict, close_code: Optional[int] = None) -> MoltBotError:
    """Builds the typed error for a server ``error`` frame."""
    code = str(frame.get("code") or "unknown")
    cls = _BY_CODE.get(code, MoltBotError)
    return cls(code, str(frame.get("message") or ""), close_code=close_code,
               message_id=frame.get("id"), retry_after_ms=frame.get("retryAfterMs"))
