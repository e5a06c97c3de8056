"""MoltBot gateway client (protocol version 1, docs/protocol.md)."""

from .backoff import Backoff
from .client import PROTOCOL_VERSION, Client, ReplyStream
from .errors import (AuthenticationError, ClientClosedError, ConnectionLostError, MessageTooBigError, MoltBotError,
                     MoltBotTimeoutError, ProtocolVersionError, RateLimitedError, ResumeFailedError, TextTooLongError)
from .events import Ack, Delta, FinalReply, Hello, HistoryMessage, Typing

__all__ = ["Ack", "AuthenticationError", "Backoff", "Client", "ClientClosedError", "ConnectionLostError", "Delta",
           "FinalReply", "Hello", "HistoryMessage", "MessageTooBigError", "MoltBotError", "MoltBotTimeoutError",
           "PROTOCOL_VERSION", "ProtocolVersionError", "RateLimitedError", "ReplyStream", "ResumeFailedError",
           "TextTooLongError", "Typing"]
