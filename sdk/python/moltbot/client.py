"""asyncio client for the MoltBot WebSocket gateway (/ws, docs/protocol.md)."""

import asyncio
import collections
import json
import uuid
from typing import AsyncIterator, Deque, Dict, List, Optional, Union

import websockets
from websockets.exceptions import ConnectionClosed, WebSocketException

from .backoff import Backoff
from .errors import (AuthenticationError, ClientClosedError, ConnectionLostError, MessageTooBigError, MoltBotError,
                     MoltBotTimeoutError, ProtocolVersionError, ResumeFailedError, error_from_frame)
from .events import Ack, Delta, FinalReply, Hello, HistoryMessage, Typing, final_from

PROTOCOL_VERSION = 1

# Close codes (docs/protocol.md, "Close codes").
CLOSE_MESSAGE_TOO_BIG = 1009
CLOSE_TRY_AGAIN_LATER = 1013  # Gateway:MaxSessions reached
CLOSE_AUTH_FAILED = 4001
CLOSE_AUTH_TIMEOUT = 4002
CLOSE_SESSION_TAKEN_OVER = 4009

Event = Union[Typing, Delta, FinalReply, MoltBotError]


class ReplyStream:
    """One sent message: ``async for text in stream`` yields reply deltas until the final reply arrives;
    ``await stream.final()`` returns the :class:`FinalReply`. Errors of this message are raised from both."""

    def __init__(self, message_id: str, frame: dict):
        self.id = message_id
        self._frame = frame
        self._epoch = -1  # connection that carried the frame last; -1: not sent yet
        self._acked: asyncio.Future = asyncio.get_running_loop().create_future()
        self._final: asyncio.Future = asyncio.get_running_loop().create_future()
        self._items: asyncio.Queue = asyncio.Queue()

    @property
    def acked(self) -> bool:
        return self._acked.done() and not self._acked.cancelled() and self._acked.exception() is None

    @property
    def done(self) -> bool:
        return self._final.done()

    async def ack(self, timeout: Optional[float] = None) -> Ack:
        return await _wait(self._acked, timeout, f"ack of message {self.id}")

    async def final(self, timeout: Optional[float] = None) -> FinalReply:
        """Waits for the final reply. A timeout or a cancelled caller leaves the message in flight."""
        return await _wait(self._final, timeout, f"reply to message {self.id}")

    def __aiter__(self) -> AsyncIterator[str]:
        return self._deltas()

    async def _deltas(self) -> AsyncIterator[str]:
        while True:
            item = await self._items.get()
            if isinstance(item, Delta):
                yield item.text
            elif isinstance(item, BaseException):
                raise item
            else:
                return

    def _on_ack(self, ack: Ack) -> None:
        if not self._acked.done():
            self._acked.set_result(ack)

    def _on_delta(self, delta: Delta) -> None:
        self._items.put_nowait(delta)

    def _on_final(self, final: FinalReply) -> None:
        if not self._final.done():
            self._final.set_result(final)
            self._items.put_nowait(final)

    def _fail(self, error: BaseException) -> None:
        for fut in (self._acked, self._final):
            if not fut.done():
                fut.set_exception(error)
                fut.exception()  # marks it retrieved: a caller that never waits gets no "never retrieved" noise
        self._items.put_nowait(error)


async def _wait(fut: asyncio.Future, timeout: Optional[float], what: str):
    # shield: a timeout or a cancelled caller must not cancel the shared future (others may still wait on it).
    try:
        return await asyncio.wait_for(asyncio.shield(fut), timeout)
    except asyncio.TimeoutError:
        if fut.done() and not fut.cancelled() and fut.exception() is None:
            return fut.result()
        raise MoltBotTimeoutError("timeout", f"no {what} within {timeout} s") from None


class _HistoryRequest:
    def __init__(self, frame: dict):
        self.frame = frame
        self.epoch = -1
        self.future: asyncio.Future = asyncio.get_running_loop().create_future()


class Client:
    """A MoltBot gateway client. Use ``async with Client(url, token) as c:`` or ``await c.connect()``.

    The connection is re-established automatically (exponential backoff) and the session resumed from the last
    sequence number seen, so every reply event arrives exactly once across drops.
    """

    def __init__(self, url: str, token: str, *, user: Optional[str] = None, conversation: Optional[str] = None,
                 lang: Optional[str] = None, backoff: Optional[Backoff] = None, connect_timeout: float = 10.0,
                 event_buffer: int = 1000, protocol_version: int = PROTOCOL_VERSION):
        self.url = url
        self._token = token
        self._user, self._conversation, self._lang = user, conversation, lang
        self._backoff = backoff or Backoff()
        self._connect_timeout = connect_timeout
        self._protocol_version = protocol_version
        self._ws = None
        self._epoch = 0
        self._reader: Optional[asyncio.Task] = None
        self._pending: Dict[str, ReplyStream] = {}
        self._completed: "collections.OrderedDict[str, None]" = collections.OrderedDict()
        self._history: Deque[_HistoryRequest] = collections.deque()
        self._pings: Dict[str, asyncio.Future] = {}
        self._events: asyncio.Queue = asyncio.Queue(maxsize=event_buffer)
        self._resend_after: Optional[int] = None
        self._closing = False
        self._fatal: Optional[MoltBotError] = None
        self.hello: Optional[Hello] = None
        self.session_id: Optional[str] = None
        self.user_id: Optional[str] = None
        self.conversation_id: Optional[str] = None
        self.last_seq = 0
        self.reconnects = 0
        self.dropped_events = 0
        self.duplicates_dropped = 0
        self.replayed_events = 0  # events the server kept for us while we were away and replayed on resume
        self._trace: Optional[list] = None  # tests: every accepted (seq, type), to prove exactly-once delivery

    async def __aenter__(self) -> "Client":
        await self.connect()
        return self

    async def __aexit__(self, *exc) -> None:
        await self.close()

    async def connect(self) -> None:
        """Opens the first connection; raises AuthenticationError, ProtocolVersionError or OSError at once."""
        await self._open()
        self._reader = asyncio.create_task(self._run(), name="moltbot-reader")

    async def close(self) -> None:
        self._closing = True
        if self._reader is not None:
            self._reader.cancel()
            await asyncio.gather(self._reader, return_exceptions=True)
        if self._ws is not None:
            await self._ws.close()
        self._fail_all(ClientClosedError("client_closed", "the client was closed"))

    # ---- operations -------------------------------------------------------------------------------------------

    async def send(self, text: str, *, id: Optional[str] = None, lang: Optional[str] = None) -> ReplyStream:
        """Sends a message with client message id ``id`` (random if omitted). Sending the same id again is
        idempotent: the server answers with the original reply instead of handling it twice."""
        self._check_usable()
        message_id = id or uuid.uuid4().hex
        if message_id in self._pending:
            return self._pending[message_id]
        frame = {"type": "send", "id": message_id, "text": text}
        if lang:
            frame["lang"] = lang
        size = len(json.dumps(frame, ensure_ascii=False).encode("utf-8"))
        if self.hello is not None and size > self.hello.max_frame_bytes:
            # The server would close the connection with 1009; refuse here so nothing else in flight is disturbed.
            raise MessageTooBigError("message_too_big",
                                     f"frame of {size} bytes exceeds the server's maxFrameBytes "
                                     f"{self.hello.max_frame_bytes}", close_code=CLOSE_MESSAGE_TOO_BIG,
                                     message_id=message_id)
        stream = ReplyStream(message_id, frame)
        self._completed.pop(message_id, None)  # an explicit resend of a finished id gets the original reply again
        self._pending[message_id] = stream
        await self._transmit(stream)
        return stream

    async def ask(self, text: str, *, id: Optional[str] = None, timeout: Optional[float] = None) -> FinalReply:
        """Sends a message and returns its final reply."""
        return await (await self.send(text, id=id)).final(timeout)

    async def history(self, limit: int = 50, timeout: Optional[float] = 30.0) -> List[HistoryMessage]:
        """The last ``limit`` messages of this conversation."""
        self._check_usable()
        request = _HistoryRequest({"type": "history", "limit": limit})
        self._history.append(request)
        await self._transmit_history(request)
        frame = await _wait(request.future, timeout, "history")
        return [HistoryMessage(m) for m in frame.get("messages", [])]

    async def typing(self, active: bool = True) -> None:
        """Tells the server the user is typing."""
        self._check_usable()
        await self._send_frame({"type": "typing", "active": active})

    async def ping(self, timeout: Optional[float] = 10.0) -> dict:
        """Application-level round trip; returns the pong frame."""
        self._check_usable()
        nonce = uuid.uuid4().hex
        fut = asyncio.get_running_loop().create_future()
        self._pings[nonce] = fut
        try:
            await self._send_frame({"type": "ping", "nonce": nonce})
            return await _wait(fut, timeout, "pong")
        finally:
            self._pings.pop(nonce, None)

    async def events(self) -> AsyncIterator[Event]:
        """Events not tied to a pending message: typing, proactive replies, uncorrelated errors. At most
        ``event_buffer`` unread events are kept (the oldest are dropped and counted in ``dropped_events``)."""
        while True:
            item = await self._events.get()
            if item is None:
                if self._fatal is not None:
                    raise self._fatal
                return
            yield item

    # ---- connection ---------------------------------------------------------------------------------------------

    async def _open(self) -> None:
        ws = await asyncio.wait_for(websockets.connect(self.url, max_size=16 * 1024 * 1024,
                                                       open_timeout=self._connect_timeout),
                                    self._connect_timeout)
        try:
            hello_frame = json.loads(await asyncio.wait_for(ws.recv(), self._connect_timeout))
            self.hello = self._check_hello(hello_frame)
            auth = {"type": "auth", "token": self._token}
            for key, value in (("user", self._user), ("conversation", self._conversation), ("lang", self._lang)):
                if value:
                    auth[key] = value
            if self.session_id is not None:
                auth["resume"] = {"session": self.session_id, "lastSeq": self.last_seq}
            await ws.send(json.dumps(auth))
            resume_error = None
            while True:
                frame = json.loads(await asyncio.wait_for(ws.recv(), self._connect_timeout))
                kind = frame.get("type")
                if kind == "session":
                    break
                if kind == "error" and frame.get("code") == "resume_failed":
                    resume_error = error_from_frame(frame)
                elif kind == "error":
                    raise error_from_frame(frame)
        except ConnectionClosed as closed:
            raise _close_error(closed) from None
        except BaseException:
            await ws.close()
            raise
        self._epoch += 1
        self._ws = ws
        self.session_id = frame["session"]
        self.user_id = frame.get("user")
        self.conversation_id = frame.get("conversation")
        if not self._user and self.user_id:
            self._user = self.user_id  # a new session after a failed resume keeps the same user and conversation
        if not self._conversation and self.conversation_id:
            self._conversation = self.conversation_id
        if frame.get("resumed", False):
            self.replayed_events += max(0, int(frame.get("lastSeq", 0)) - self.last_seq)
        if resume_error is not None or not frame.get("resumed", False):
            # New session: what was sent on the old one cannot be accounted for.
            self.last_seq = 0
            if resume_error is not None:
                self._fail_sent(ResumeFailedError(resume_error.code, resume_error.message))
        self._resend_after = int(frame.get("lastSeq", 0))
        self._maybe_resend()

    def _check_hello(self, frame: dict) -> Hello:
        if frame.get("type") != "hello":
            raise MoltBotError("invalid_hello", f"expected a hello frame, got {frame.get('type')!r}")
        version = frame.get("protocol")
        if version != self._protocol_version:
            raise ProtocolVersionError("protocol_mismatch",
                                       f"server speaks protocol version {version}, this SDK speaks "
                                       f"{self._protocol_version}; use a matching SDK release")
        limits = frame.get("limits") or {}
        return Hello(int(version), int(frame.get("heartbeatIntervalMs", 0)), int(frame.get("heartbeatTimeoutMs", 0)),
                     int(limits.get("maxFrameBytes", 1 << 62)), int(limits.get("maxTextLength", 1 << 62)), frame)

    async def _run(self) -> None:
        try:
            while True:
                ws = self._ws
                try:
                    raw = await ws.recv()
                except ConnectionClosed as closed:
                    if self._closing:
                        return
                    if not await self._recover(closed):
                        return
                    continue
                try:
                    frame = json.loads(raw)
                except ValueError:
                    self._publish(MoltBotError("invalid_json", "the server sent a frame that is not JSON"))
                    continue
                self._dispatch(frame)
        except asyncio.CancelledError:
            raise
        except Exception as unexpected:  # a bug must fail the callers loudly, not hang them
            self._set_fatal(MoltBotError("internal", f"reader failed: {unexpected!r}"))

    async def _recover(self, closed: ConnectionClosed) -> bool:
        code = closed.rcvd.code if closed.rcvd is not None else None
        if code in (CLOSE_AUTH_FAILED, CLOSE_AUTH_TIMEOUT, CLOSE_SESSION_TAKEN_OVER):
            self._set_fatal(_close_error(closed))
            return False
        if code == CLOSE_MESSAGE_TOO_BIG:
            # Only an unacknowledged message can have been too big; resending it would close the connection again.
            error = _close_error(closed)
            for stream in [s for s in self._pending.values() if not s.acked and s._epoch == self._epoch]:
                self._pending.pop(stream.id, None)
                stream._fail(error)
        self._ws = None
        attempt = 0
        while not self._closing:
            if not self._backoff.allows(attempt):
                self._set_fatal(ConnectionLostError("connection_lost",
                                                    f"could not reconnect after {attempt} attempts", close_code=code))
                return False
            await asyncio.sleep(self._backoff.delay(attempt))
            attempt += 1
            try:
                await self._open()
                self.reconnects += 1
                return True
            except (AuthenticationError, ProtocolVersionError) as fatal:
                self._set_fatal(fatal)
                return False
            except (OSError, asyncio.TimeoutError, WebSocketException, MoltBotError):
                continue
        return False

    def _dispatch(self, frame: dict) -> None:
        seq = frame.get("seq")
        if isinstance(seq, int):
            if seq <= self.last_seq:
                self.duplicates_dropped += 1
                return  # already seen (resume replays from our lastSeq; this guards against overlap)
            self.last_seq = seq
        kind = frame.get("type")
        if self._trace is not None:
            self._trace.append((seq, kind))
        reply_to = frame.get("replyTo")
        stream = self._pending.get(reply_to) if reply_to else None
        if kind == "ack":
            target = self._pending.get(frame.get("id"))
            if target is not None:
                target._on_ack(Ack(frame["id"], str(frame.get("messageId", "")), bool(frame.get("duplicate"))))
        elif kind == "reply.delta":
            delta = Delta(reply_to, str(frame.get("messageId", "")), str(frame.get("text", "")))
            if stream is not None:
                stream._on_delta(delta)
            elif reply_to not in self._completed:
                self._publish(delta)
        elif kind == "reply.final":
            final = final_from(frame)
            if stream is not None:
                del self._pending[reply_to]
                self._remember_completed(reply_to)
                stream._on_final(final)
            elif reply_to is None:
                self._publish(final)  # proactive message (e.g. a reminder)
            # else: a duplicate final of a message already answered: delivered once, so dropped here
        elif kind == "typing":
            self._publish(Typing(reply_to, bool(frame.get("active", True))))
        elif kind == "history":
            request = self._history.popleft() if self._history else None
            if request is not None and not request.future.done():
                request.future.set_result(frame)
        elif kind == "pong":
            fut = self._pings.get(frame.get("nonce"))
            if fut is not None and not fut.done():
                fut.set_result(frame)
        elif kind == "error":
            error = error_from_frame(frame)
            target = self._pending.pop(error.message_id, None) if error.message_id else None
            if target is not None:
                target._fail(error)
            else:
                self._publish(error)
        self._maybe_resend()

    def _maybe_resend(self) -> None:
        """Once the replay after a resume is through, resends what the server never acknowledged."""
        if self._resend_after is None or self.last_seq < self._resend_after or self._ws is None:
            return
        self._resend_after = None
        for stream in list(self._pending.values()):
            if not stream.acked and stream._epoch != self._epoch:
                asyncio.ensure_future(self._transmit(stream))
        for request in list(self._history):
            if request.epoch != self._epoch:
                asyncio.ensure_future(self._transmit_history(request))

    async def _transmit(self, stream: ReplyStream) -> None:
        ws, epoch = self._ws, self._epoch
        if ws is None or self._resend_after is not None:
            return  # sent by _maybe_resend once the connection is back and the replay is through
        stream._epoch = epoch
        try:
            await ws.send(json.dumps(stream._frame, ensure_ascii=False))
        except ConnectionClosed:
            stream._epoch = -1  # the reader reconnects and resends it

    async def _transmit_history(self, request: _HistoryRequest) -> None:
        ws, epoch = self._ws, self._epoch
        if ws is None or self._resend_after is not None:
            return
        request.epoch = epoch
        try:
            await ws.send(json.dumps(request.frame))
        except ConnectionClosed:
            request.epoch = -1

    async def _send_frame(self, frame: dict) -> None:
        if self._ws is None:
            raise ConnectionLostError("not_connected", "the client is reconnecting; try again")
        try:
            await self._ws.send(json.dumps(frame))
        except ConnectionClosed as closed:
            raise ConnectionLostError("not_connected", f"connection closed: {closed}") from None

    # ---- bookkeeping -------------------------------------------------------------------------------------------

    def _remember_completed(self, message_id: str) -> None:
        self._completed[message_id] = None
        while len(self._completed) > 10_000:
            self._completed.popitem(last=False)

    def _publish(self, event: Event) -> None:
        if self._events.full():
            self._events.get_nowait()
            self.dropped_events += 1
        self._events.put_nowait(event)

    def _check_usable(self) -> None:
        if self._fatal is not None:
            raise self._fatal
        if self._closing:
            raise ClientClosedError("client_closed", "the client was closed")
        if self._reader is None:
            raise MoltBotError("not_connected", "call connect() first")

    def _fail_sent(self, error: MoltBotError) -> None:
        for stream in [s for s in self._pending.values() if s._epoch >= 0]:
            self._pending.pop(stream.id, None)
            stream._fail(error)
        for request in [r for r in self._history if r.epoch >= 0]:
            self._history.remove(request)
            if not request.future.done():
                request.future.set_exception(error)

    def _fail_all(self, error: MoltBotError) -> None:
        for stream in list(self._pending.values()):
            stream._fail(error)
        self._pending.clear()
        while self._history:
            request = self._history.popleft()
            if not request.future.done():
                request.future.set_exception(error)
        for fut in self._pings.values():
            if not fut.done():
                fut.set_exception(error)
        if self._events.full():
            self._events.get_nowait()
        self._events.put_nowait(None)

    def _set_fatal(self, error: MoltBotError) -> None:
        self._fatal = error
        self._fail_all(error)

    def _abort_connection_for_tests(self) -> None:
        """Drops the TCP connection without a close handshake, as a network failure would."""
        if self._ws is not None:
            self._ws.transport.abort()


def _close_error(closed: ConnectionClosed) -> MoltBotError:
    code = closed.rcvd.code if closed.rcvd is not None else None
    reason = closed.rcvd.reason if closed.rcvd is not None else "connection closed"
    if code in (CLOSE_AUTH_FAILED, CLOSE_AUTH_TIMEOUT):
        return AuthenticationError("auth_failed" if code == CLOSE_AUTH_FAILED else "auth_timeout", reason,
                                   close_code=code)
    if code == CLOSE_MESSAGE_TOO_BIG:
        return MessageTooBigError("message_too_big", reason, close_code=code)
    if code == CLOSE_SESSION_TAKEN_OVER:
        return MoltBotError("session_taken_over", reason, close_code=code)
    if code == CLOSE_TRY_AGAIN_LATER:
        return ConnectionLostError("too_many_sessions", reason, close_code=code)  # retried with backoff
    return ConnectionLostError("connection_lost", reason, close_code=code)
