package dev.moltbot.sdk;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.Flow;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** Streamed deltas cut mid-reply, an overlapping replay, resends and a failed resume, against a scripted server. */
class ScriptedGatewayTest {
    private static final long TIMEOUT_S = 30;

    private static MoltBotClient connect(ScriptedGateway g) {
        return MoltBotClient.connect(g.uri, ClientOptions.of("t".repeat(16))
                .withBackoff(new Backoff(Duration.ofMillis(10), 2, Duration.ofMillis(50), 20, true)))
                .orTimeout(TIMEOUT_S, TimeUnit.SECONDS).join();
    }

    private static Map<String, Object> session(String id, boolean resumed, long lastSeq) {
        return Map.of("type", "session", "session", id, "user", "u", "conversation", "u", "resumed", resumed, "lastSeq", lastSeq);
    }

    private static Map<String, Object> frame(Object... kv) {
        Map<String, Object> f = new java.util.LinkedHashMap<>();
        for (int k = 0; k < kv.length; k += 2) f.put((String) kv[k], kv[k + 1]);
        return f;
    }

    private static <T> T await(CompletableFuture<T> f) {
        return f.orTimeout(TIMEOUT_S, TimeUnit.SECONDS).join();
    }

    private static CompletableFuture<List<String>> collect(Flow.Publisher<String> publisher) {
        CompletableFuture<List<String>> result = new CompletableFuture<>();
        List<String> items = new ArrayList<>();
        publisher.subscribe(new Flow.Subscriber<>() {
            @Override
            public void onSubscribe(Flow.Subscription s) {
                s.request(Long.MAX_VALUE);
            }

            @Override
            public void onNext(String item) {
                items.add(item);
            }

            @Override
            public void onError(Throwable t) {
                result.completeExceptionally(t);
            }

            @Override
            public void onComplete() {
                result.complete(items);
            }
        });
        return result;
    }

    @Test
    void deltasCutMidReplyResumeWithAnOverlappingReplayExactlyOnce() throws Exception {
        try (ScriptedGateway g = new ScriptedGateway((gw, conn, n) -> {
            if (n == 1) {
                conn.send(session("s1", false, 0));
                Object id = conn.nextSend().get("id");
                conn.send(frame("type", "ack", "seq", 1, "id", id, "messageId", "m1", "duplicate", false));
                conn.send(frame("type", "reply.delta", "seq", 2, "replyTo", id, "messageId", "m1", "text", "Hel"));
                conn.send(frame("type", "reply.delta", "seq", 3, "replyTo", id, "messageId", "m1", "text", "lo"));
                Thread.sleep(200);
                conn.drop();
                return;
            }
            conn.send(session("s1", true, 5));
            // The replay starts one event early (seq 3 again): the client must drop it.
            conn.send(frame("type", "reply.delta", "seq", 3, "replyTo", "c1", "messageId", "m1", "text", "lo"));
            conn.send(frame("type", "reply.delta", "seq", 4, "replyTo", "c1", "messageId", "m1", "text", " world"));
            conn.send(frame("type", "reply.final", "seq", 5, "replyTo", "c1", "messageId", "m1", "text", "Hello world"));
            Thread.sleep(1000);
        }); MoltBotClient c = connect(g)) {
            Reply reply = c.send("hi", "c1");
            List<String> deltas = await(collect(reply.deltas()));
            FinalReply fin = await(reply.finalReply());
            assertEquals(List.of("Hel", "lo", " world"), deltas);
            assertEquals(String.join("", deltas), fin.text());
            assertEquals(Map.of("session", "s1", "lastSeq", 3L), g.auths.get(1).get("resume"));
            assertEquals(1, g.sends.size()); // acknowledged before the drop: never resent
        }
    }

    @Test
    void unacknowledgedMessageIsResentWithTheSameId() throws Exception {
        try (ScriptedGateway g = new ScriptedGateway((gw, conn, n) -> {
            if (n == 1) {
                conn.send(session("s1", false, 0));
                conn.nextSend();
                conn.drop(); // not acknowledged
                return;
            }
            conn.send(session("s1", true, 0));
            Object id = conn.nextSend().get("id");
            conn.send(frame("type", "ack", "seq", 1, "id", id, "messageId", "m1", "duplicate", false));
            conn.send(frame("type", "reply.final", "seq", 2, "replyTo", id, "messageId", "m1", "text", "done"));
            Thread.sleep(1000);
        }); MoltBotClient c = connect(g)) {
            assertEquals("done", await(c.send("hi", "c7").finalReply()).text());
            assertEquals(List.of("c7", "c7"), g.sends.stream().map(f -> f.get("id")).toList());
            assertEquals(1, c.reconnects());
        }
    }

    @Test
    void aSilentConnectionIsDetectedByTheHeartbeatWatchdogAndResumed() throws Exception {
        // Heartbeat 200 ms: no frame and no ping for 2 intervals + timeout + 1 s means the path is dead.
        String hello = "{\"type\":\"hello\",\"protocol\":1,\"heartbeatIntervalMs\":200,\"heartbeatTimeoutMs\":200,\"limits\":{}}";
        try (ScriptedGateway g = new ScriptedGateway(hello, (gw, conn, n) -> {
            if (n == 1) {
                conn.send(session("s1", false, 0));
                Object id = conn.nextSend().get("id");
                conn.send(frame("type", "ack", "seq", 1, "id", id, "messageId", "m1", "duplicate", false));
                Thread.sleep(10_000); // the path goes silent without closing: no FIN, no RST, no pings
                return;
            }
            conn.send(session("s1", true, 2));
            conn.send(frame("type", "reply.final", "seq", 2, "replyTo", "c9", "messageId", "m1", "text", "late"));
            Thread.sleep(1000);
        }); MoltBotClient c = connect(g)) {
            assertEquals("late", await(c.send("hi", "c9").finalReply()).text());
            assertEquals(1, c.reconnects());
            assertEquals(Map.of("session", "s1", "lastSeq", 1L), g.auths.get(1).get("resume"));
        }
    }

    @Test
    void failedResumeFailsTheSentMessageAndContinuesOnANewSession() throws Exception {
        try (ScriptedGateway g = new ScriptedGateway((gw, conn, n) -> {
            if (n == 1) {
                conn.send(session("s1", false, 0));
                Object id = conn.nextSend().get("id");
                conn.send(frame("type", "ack", "seq", 1, "id", id, "messageId", "m1", "duplicate", false));
                conn.drop();
                return;
            }
            conn.send(frame("type", "error", "code", "resume_failed", "message", "Cannot resume: the session has expired"));
            conn.send(session("s2", false, 0));
            Object id = conn.nextSend().get("id");
            conn.send(frame("type", "ack", "seq", 1, "id", id, "messageId", "m2", "duplicate", false));
            conn.send(frame("type", "reply.final", "seq", 2, "replyTo", id, "messageId", "m2", "text", "fresh"));
            Thread.sleep(1000);
        }); MoltBotClient c = connect(g)) {
            Reply lost = c.send("lost");
            CompletionException e = assertThrows(CompletionException.class, () -> await(lost.finalReply()));
            assertEquals("resume_failed", assertInstanceOf(ResumeFailedException.class, e.getCause()).code());
            assertEquals("s2", c.sessionId());
            assertEquals("u", g.auths.get(1).get("user")); // the new session keeps the user
            assertEquals("fresh", await(c.ask("again")).text());
        }
    }
}
