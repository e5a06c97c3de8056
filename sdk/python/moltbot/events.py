"""Server events as small immutable records (field names follow docs/protocol.md)."""

from dataclasses import dataclass, field
from typing import Any, Optional


@dataclass(frozen=True)
class Hello:
    protocol: int
    heartbeat_interval_ms: int
    heartbeat_timeout_ms: int
    max_frame_bytes: int
    max_text_length: int
    raw: dict = field(repr=False)


@dataclass(frozen=True)
class Ack:
    id: str
    message_id: str
    duplicate: bool


@dataclass(frozen=True)
class Delta:
    reply_to: Optional[str]
    message_id: str
    text: str


@dataclass(frozen=True)
class FinalReply:
    reply_to: Optional[str]
    message_id: str
    text: str
    failed: bool
    lang: Optional[str]
    source: Optional[str]
    card: Any
    timestamp_ms: int


@dataclass(frozen=True)
class Typing:
    reply_to: Optional[str]
    active: bool


@dataclass(frozen=True)
class HistoryMessage:
    raw: dict

    def get(self, key: str, default: Any = None) -> Any:
        return self.raw.get(key, default)


def final_from(frame: dict) -> FinalReply:
    return FinalReply(frame.get("replyTo"), str(frame.get("messageId", "")), str(frame.get("text", "")),
                      bool(frame.get("failed", False)), frame.get("lang"), frame.get("source"), frame.get("card"),
                      int(frame.get("timestampMs", 0)))
