"""Edge cases the real dialog manager cannot produce on demand (streamed deltas cut mid-reply, an overlapping
replay, a failed resume), driven by a scripted server that speaks docs/protocol.md's wire format."""

import asyncio
import json
import unittest

import websockets

import moltbot

TIMEOUT = 30.0
HELLO = {"type": "hello", "protocol": 1, "server": "moltbot", "heartbeatIntervalMs": 15000, "heartbeatTimeoutMs": 5000,
         "authTimeoutMs": 10000, "limits": {"maxFrameBytes": 65536, "maxTextLength": 8000}}


class ScriptedGateway:
    """Runs ``script(ws, auth, connection_number)`` for every connection after hello and auth."""

    def __init__(self, script):
        self.script = script
        self.auths = []
        self.sends = []

    async def __aenter__(self):
        self.server = await websockets.serve(self._handle, "127.0.0.1", 0)
        self.url = f"ws://127.0.0.1:{self.server.sockets[0].getsockname()[1]}/ws"
        return self

    async def __aexit__(self, *exc):
        self.server.close()
        await self.server.wait_closed()

    async def _handle(self, ws, *path):
        await ws.send(json.dumps(HELLO))
        auth = json.loads(await ws.recv())
        self.auths.append(auth)
        try:
            await self.script(ws, auth, len(self.auths))
        except websockets.ConnectionClosed:
            pass

    async def next_send(self, ws) -> dict:
        frame = json.loads(await ws.recv())
        self.sends.append(frame)
        return frame


async def send(ws, **frame):
    await ws.send(json.dumps(frame))


def drop(ws):
    ws.transport.abort()  # no close frame: a network failure


class ScriptedGatewayTest(unittest.IsolatedAsyncioTestCase):
    def client(self, url):
        return moltbot.Client(url, "t" * 16, backoff=moltbot.Backoff(initial=0.01, max_delay=0.05))

    async def test_deltas_cut_mid_reply_resume_with_an_overlapping_replay_exactly_once(self):
        async def script(ws, auth, n):
            if n == 1:
                await send(ws, type="session", session="s1", user="u", conversation="u", resumed=False, lastSeq=0)
                frame = await gateway.next_send(ws)
                await send(ws, type="ack", seq=1, id=frame["id"], messageId="m1", duplicate=False)
                await send(ws, type="reply.delta", seq=2, replyTo=frame["id"], messageId="m1", text="Hel")
                await send(ws, type="reply.delta", seq=3, replyTo=frame["id"], messageId="m1", text="lo")
                await asyncio.sleep(0.2)
                drop(ws)
            else:
                await send(ws, type="session", session="s1", user="u", conversation="u", resumed=True, lastSeq=5)
                # The replay starts one event early (seq 3 again): the client must drop it.
                await send(ws, type="reply.delta", seq=3, replyTo="c1", messageId="m1", text="lo")
                await send(ws, type="reply.delta", seq=4, replyTo="c1", messageId="m1", text=" world")
                await send(ws, type="reply.final", seq=5, replyTo="c1", messageId="m1", text="Hello world",
                           failed=False, timestampMs=1)
                await asyncio.sleep(1)

        async with ScriptedGateway(script) as gateway:
            async with self.client(gateway.url) as c:
                stream = await c.send("hi", id="c1")
                deltas = [d async for d in stream]
                final = await stream.final(TIMEOUT)
                self.assertEqual(["Hel", "lo", " world"], deltas)
                self.assertEqual("".join(deltas), final.text)
                self.assertEqual(1, c.duplicates_dropped)
                self.assertEqual({"session": "s1", "lastSeq": 3}, gateway.auths[1]["resume"])
                self.assertEqual(1, len(gateway.sends))  # acknowledged before the drop: never resent

    async def test_an_unacknowledged_message_is_resent_with_the_same_id_after_resume(self):
        async def script(ws, auth, n):
            if n == 1:
                await send(ws, type="session", session="s1", user="u", conversation="u", resumed=False, lastSeq=0)
                await gateway.next_send(ws)
                drop(ws)  # the message was not acknowledged
            else:
                await send(ws, type="session", session="s1", user="u", conversation="u", resumed=True, lastSeq=0)
                frame = await gateway.next_send(ws)
                await send(ws, type="ack", seq=1, id=frame["id"], messageId="m1", duplicate=False)
                await send(ws, type="reply.final", seq=2, replyTo=frame["id"], messageId="m1", text="done",
                           failed=False, timestampMs=1)
                await asyncio.sleep(1)

        async with ScriptedGateway(script) as gateway:
            async with self.client(gateway.url) as c:
                final = await c.ask("hi", id="c7", timeout=TIMEOUT)
                self.assertEqual("done", final.text)
                self.assertEqual(["c7", "c7"], [f["id"] for f in gateway.sends])
                self.assertEqual(1, c.reconnects)

    async def test_a_failed_resume_fails_the_sent_message_and_continues_on_a_new_session(self):
        async def script(ws, auth, n):
            if n == 1:
                await send(ws, type="session", session="s1", user="u", conversation="u", resumed=False, lastSeq=0)
                frame = await gateway.next_send(ws)
                await send(ws, type="ack", seq=1, id=frame["id"], messageId="m1", duplicate=False)
                drop(ws)
            else:
                await send(ws, type="error", code="resume_failed", message="Cannot resume: the session has expired")
                await send(ws, type="session", session="s2", user="u", conversation="u", resumed=False, lastSeq=0)
                frame = await gateway.next_send(ws)
                await send(ws, type="ack", seq=1, id=frame["id"], messageId="m2", duplicate=False)
                await send(ws, type="reply.final", seq=2, replyTo=frame["id"], messageId="m2", text="fresh",
                           failed=False, timestampMs=1)
                await asyncio.sleep(1)

        async with ScriptedGateway(script) as gateway:
            async with self.client(gateway.url) as c:
                stream = await c.send("lost")
                with self.assertRaises(moltbot.ResumeFailedError) as caught:
                    await stream.final(TIMEOUT)
                self.assertEqual("resume_failed", caught.exception.code)
                self.assertEqual("s2", c.session_id)
                self.assertEqual("u", gateway.auths[1]["user"])  # the new session keeps the user
                self.assertEqual("fresh", (await c.ask("again", timeout=TIMEOUT)).text)


if __name__ == "__main__":
    unittest.main()
