"""Tests against a real MoltBot process (tests/moltbot_server.py). Run: python3 -m unittest discover -s tests"""

import asyncio
import dataclasses
import os
import subprocess
import sys
import unittest
from pathlib import Path

import moltbot
from tests.moltbot_server import TOKEN, MoltBotServer

TIMEOUT = 60.0  # generous: only there so a broken build fails instead of hanging


def fast_backoff() -> moltbot.Backoff:
    return moltbot.Backoff(initial=0.05, max_delay=0.5, max_attempts=20)


class ClientAgainstMoltBotTest(unittest.IsolatedAsyncioTestCase):
    server: MoltBotServer

    @classmethod
    def setUpClass(cls) -> None:
        cls.server = MoltBotServer().__enter__()

    @classmethod
    def tearDownClass(cls) -> None:
        cls.server.__exit__(None, None, None)

    def client(self, token: str = TOKEN, **kwargs) -> moltbot.Client:
        kwargs.setdefault("backoff", fast_backoff())
        return moltbot.Client(self.server.ws_url, token, **kwargs)

    async def test_send_and_receive_reply(self):
        async with self.client() as c:
            self.assertEqual(moltbot.PROTOCOL_VERSION, c.hello.protocol)
            self.assertTrue(c.session_id)
            stream = await c.send("hello there", id="py-hello-1")
            ack = await stream.ack(TIMEOUT)
            final = await stream.final(TIMEOUT)
            self.assertEqual("py-hello-1", ack.id)
            self.assertFalse(ack.duplicate)
            self.assertEqual("py-hello-1", final.reply_to)
            self.assertEqual(ack.message_id, final.message_id)
            self.assertTrue(final.text.strip())
            self.assertFalse(final.failed)

    async def test_stream_yields_deltas_then_ends_with_the_final_reply(self):
        async with self.client() as c:
            c._trace = []
            stream = await c.send("tell me something")
            deltas = [d async for d in stream]  # ends when the final reply arrives
            final = await stream.final(TIMEOUT)
            self.assertTrue(stream.done)
            kinds = [k for _, k in c._trace]
            self.assertEqual("ack", kinds[0])
            self.assertEqual("reply.final", kinds[-1])
            self.assertEqual(len(deltas), kinds.count("reply.delta"))
            if deltas:  # the reply streamed: the deltas add up to the final text
                self.assertEqual(final.text, "".join(deltas))

    async def test_connection_drop_mid_reply_is_resumed_and_every_event_arrives_once(self):
        async with self.client() as c:
            c._trace = []
            first = await c.ask("first message", timeout=TIMEOUT)  # events 1..n on the first connection
            stream = await c.send("second message", id="py-drop-1")
            # Cut the TCP connection right after the frame left: ack, deltas and final are produced while the
            # client is away, kept by the server and replayed on resume.
            c._abort_connection_for_tests()
            deltas = [d async for d in stream]
            final = await stream.final(TIMEOUT)
            self.assertGreaterEqual(c.reconnects, 1)
            self.assertEqual("py-drop-1", final.reply_to)
            self.assertTrue(final.text.strip())
            if deltas:
                self.assertEqual(final.text, "".join(deltas))
            seqs = [s for s, _ in c._trace]
            # Nothing lost, nothing twice: the accepted sequence numbers are exactly 1..last.
            self.assertEqual(list(range(1, c.last_seq + 1)), seqs)
            self.assertEqual(2, [k for _, k in c._trace].count("reply.final"))  # first and second, once each
            self.assertTrue(first.text.strip())
            # The session still works after the resume.
            again = await c.ask("third message", timeout=TIMEOUT)
            self.assertTrue(again.text.strip())

    async def test_events_produced_while_disconnected_are_replayed_exactly_once(self):
        async with self.client() as c:
            c._trace = []
            await c.ask("warm up", timeout=TIMEOUT)
            c._ws.transport.pause_reading()  # from here on the client reads nothing: events pile up unread
            stream = await c.send("reply while I am away", id="py-away-1")
            await self.wait_for_replies(c.conversation_id, 2)  # the server has answered (and published)
            await asyncio.sleep(0.3)
            c._abort_connection_for_tests()  # the unread ack, deltas and final are lost with the connection
            final = await stream.final(TIMEOUT)
            self.assertEqual("py-away-1", final.reply_to)
            self.assertGreaterEqual(c.replayed_events, 2)  # at least the ack and the final came from the replay
            self.assertEqual(list(range(1, c.last_seq + 1)), [s for s, _ in c._trace])
            kinds = [k for _, k in c._trace]
            self.assertEqual(2, kinds.count("ack"))  # acked once: the replay made the resend unnecessary
            self.assertEqual(2, kinds.count("reply.final"))

    async def wait_for_replies(self, conversation: str, count: int) -> None:
        loop = asyncio.get_running_loop()
        for _ in range(int(TIMEOUT / 0.1)):
            messages = await loop.run_in_executor(None, self.server.history, conversation)
            if sum(1 for m in messages if m.get("direction") == "out") >= count:
                return
            await asyncio.sleep(0.1)
        self.fail(f"MoltBot did not answer {count} messages in {conversation}")

    async def test_drop_after_ack_resumes_without_resending(self):
        async with self.client() as c:
            c._trace = []
            stream = await c.send("a message", id="py-drop-2")
            await stream.ack(TIMEOUT)
            c._abort_connection_for_tests()
            final = await stream.final(TIMEOUT)
            self.assertEqual("py-drop-2", final.reply_to)
            kinds = [k for _, k in c._trace]
            self.assertEqual(1, kinds.count("ack"))  # acked before the drop: never resent, never re-acked
            self.assertEqual(1, kinds.count("reply.final"))
            self.assertEqual(list(range(1, c.last_seq + 1)), [s for s, _ in c._trace])

    async def test_resending_an_id_returns_the_original_reply(self):
        async with self.client() as c:
            original = await c.ask("remember me", id="py-idem-1", timeout=TIMEOUT)
            again = await c.send("remember me", id="py-idem-1")
            ack = await again.ack(TIMEOUT)
            repeat = await again.final(TIMEOUT)
            self.assertTrue(ack.duplicate)
            self.assertEqual(original.message_id, repeat.message_id)
            self.assertEqual(original.text, repeat.text)

    async def test_bad_token_is_an_authentication_error(self):
        c = self.client(token="wrong-token-wrong-token")
        with self.assertRaises(moltbot.AuthenticationError) as caught:
            await c.connect()
        self.assertEqual("auth_failed", caught.exception.code)
        self.assertEqual(4001, caught.exception.close_code)

    async def test_protocol_version_mismatch_is_a_clear_error(self):
        c = self.client(protocol_version=moltbot.PROTOCOL_VERSION + 1)
        with self.assertRaises(moltbot.ProtocolVersionError) as caught:
            await c.connect()
        self.assertEqual("protocol_mismatch", caught.exception.code)
        self.assertIn("server speaks protocol version 1", str(caught.exception))

    async def test_text_over_the_limit_is_a_typed_error_and_the_connection_stays_usable(self):
        async with self.client() as c:
            too_long = "x" * (c.hello.max_text_length + 1)
            stream = await c.send(too_long)
            with self.assertRaises(moltbot.TextTooLongError) as caught:
                await stream.final(TIMEOUT)
            self.assertEqual("text_too_long", caught.exception.code)
            self.assertEqual(stream.id, caught.exception.message_id)
            self.assertTrue((await c.ask("still here?", timeout=TIMEOUT)).text.strip())

    async def test_frame_over_max_frame_bytes_is_refused_before_sending(self):
        async with self.client() as c:
            with self.assertRaises(moltbot.MessageTooBigError) as caught:
                await c.send("y" * (c.hello.max_frame_bytes + 10))
            self.assertEqual("message_too_big", caught.exception.code)
            self.assertEqual(0, c.reconnects)

    async def test_server_close_1009_fails_that_message_and_the_client_recovers(self):
        async with self.client() as c:
            # Pretend the server allowed bigger frames, so the frame reaches it and it closes with 1009.
            c.hello = dataclasses.replace(c.hello, max_frame_bytes=10 ** 9)
            stream = await c.send("z" * 20_000)
            with self.assertRaises(moltbot.MessageTooBigError) as caught:
                await stream.final(TIMEOUT)
            self.assertEqual(1009, caught.exception.close_code)
            self.assertTrue((await c.ask("after the big one", timeout=TIMEOUT)).text.strip())
            self.assertGreaterEqual(c.reconnects, 1)

    async def test_history_returns_the_conversation(self):
        async with self.client() as c:
            await c.ask("history please", timeout=TIMEOUT)
            messages = await c.history(limit=10, timeout=TIMEOUT)
            texts = [m.get("text") for m in messages]
            self.assertIn("history please", texts)
            self.assertTrue(all(m.get("direction") for m in messages))

    async def test_timeout_and_cancellation_leave_the_message_in_flight(self):
        async with self.client() as c:
            c._ws.transport.pause_reading()  # the reply cannot arrive until reading resumes
            stream = await c.send("slow or not")
            with self.assertRaises(moltbot.MoltBotTimeoutError):
                await stream.final(timeout=0.2)
            waiter = asyncio.ensure_future(stream.final())
            await asyncio.sleep(0)
            waiter.cancel()
            with self.assertRaises(asyncio.CancelledError):
                await waiter
            c._ws.transport.resume_reading()
            self.assertTrue((await stream.final(TIMEOUT)).text.strip())  # still delivered afterwards

    async def test_server_heartbeats_are_answered_so_an_idle_client_stays_connected(self):
        async with self.client() as c:
            self.assertEqual(1000, c.hello.heartbeat_interval_ms)
            await asyncio.sleep(4.5)  # > interval + timeout: an unanswered ping would have closed the connection
            self.assertEqual(0, c.reconnects)
            self.assertTrue((await c.ask("still connected?", timeout=TIMEOUT)).text.strip())
            self.assertEqual(0, c.reconnects)

    def test_example_chat_answers_each_line_and_shows_history(self):
        example = Path(__file__).resolve().parents[1] / "examples" / "chat.py"
        env = dict(os.environ, MOLTBOT_URL=self.server.ws_url, MOLTBOT_TOKEN=TOKEN)
        run = subprocess.run([sys.executable, str(example)], input="hello\n\n/history\n", env=env,
                             capture_output=True, text=True, timeout=TIMEOUT)
        self.assertEqual(0, run.returncode, run.stderr)
        lines = run.stdout.splitlines()
        self.assertTrue(lines[0].strip(), run.stdout)  # the reply to "hello"
        self.assertIn("in: hello", lines)
        self.assertTrue(any(line.startswith("out: ") for line in lines), run.stdout)

    async def test_ping_round_trip(self):
        async with self.client() as c:
            pong = await c.ping(TIMEOUT)
            self.assertEqual("pong", pong["type"])


class SessionLimitTest(unittest.IsolatedAsyncioTestCase):
    async def test_a_full_server_is_a_typed_error_on_connect(self):
        with MoltBotServer(**{"Gateway:MaxSessions": "1"}) as server:
            async with moltbot.Client(server.ws_url, TOKEN) as first:
                self.assertTrue(first.session_id)
                second = moltbot.Client(server.ws_url, TOKEN)
                with self.assertRaises(moltbot.ConnectionLostError) as caught:
                    await second.connect()
                self.assertEqual("too_many_sessions", caught.exception.code)
                self.assertEqual(1013, caught.exception.close_code)


class BackoffTest(unittest.TestCase):
    def test_delays_grow_exponentially_up_to_the_cap(self):
        b = moltbot.Backoff(initial=0.1, factor=2, max_delay=1.0, max_attempts=5, jitter=False)
        self.assertEqual([0.1, 0.2, 0.4, 0.8, 1.0, 1.0], [round(b.delay(n), 3) for n in range(6)])
        self.assertTrue(b.allows(4))
        self.assertFalse(b.allows(5))

    def test_jitter_stays_within_the_ceiling(self):
        b = moltbot.Backoff(initial=0.1, factor=2, max_delay=1.0)
        self.assertTrue(all(0 <= b.delay(n) <= min(1.0, 0.1 * 2 ** n) for n in range(20)))


if __name__ == "__main__":
    unittest.main()
