package dev.moltbot.sdk;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.Flow;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Runs against a real MoltBot process (one for the class: starting one costs a few seconds of CPU). */
class MoltBotClientTest {
    // Generous: only there so a broken build fails instead of hanging.
    private static final long TIMEOUT_S = 60;
    private static MoltBotServer server;
    private final List<MoltBotClient> clients = new ArrayList<>();

    @BeforeAll
    static void startServer() throws Exception {
        server = MoltBotServer.start();
    }

    @AfterAll
    static void stopServer() throws Exception {
        server.close();
    }

    @AfterEach
    void closeClients() {
        clients.forEach(MoltBotClient::close);
    }

    private static ClientOptions options() {
        return ClientOptions.of(MoltBotServer.TOKEN)
                .withBackoff(new Backoff(Duration.ofMillis(50), 2, Duration.ofMillis(500), 20, true));
    }

    private MoltBotClient connect() {
        MoltBotClient c = MoltBotClient.connect(server.wsUri, options()).orTimeout(TIMEOUT_S, TimeUnit.SECONDS).join();
        clients.add(c);
        return c;
    }

    private static <T> T await(CompletableFuture<T> f) {
        return f.orTimeout(TIMEOUT_S, TimeUnit.SECONDS).join();
    }

    private static Throwable failureOf(CompletableFuture<?> f) {
        CompletionException e = assertThrows(CompletionException.class, () -> await(f));
        return e.getCause();
    }

    /** Subscribes to a Flow.Publisher and collects everything until completion. */
    private static CompletableFuture<List<String>> collect(Flow.Publisher<String> publisher) {
        CompletableFuture<List<String>> result = new CompletableFuture<>();
        publisher.subscribe(new Flow.Subscriber<>() {
            private final List<String> items = new ArrayList<>();

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

    private static long count(List<String> trace, String type) {
        return trace.stream().filter(e -> e.endsWith(":" + type)).count();
    }

    /** Nothing lost, nothing twice: the accepted sequence numbers are exactly 1..last. */
    private static void assertContiguous(MoltBotClient c) {
        List<String> trace = c.trace();
        for (int k = 0; k < trace.size(); k++) {
            assertTrue(trace.get(k).startsWith((k + 1) + ":"), "sequence numbers not 1..n exactly once: " + trace);
        }
        assertEquals(c.lastSeq(), trace.size());
    }

    @Test
    void sendAndReceiveReply() {
        MoltBotClient c = connect();
        assertEquals(MoltBotClient.PROTOCOL_VERSION, c.hello().protocol());
        assertFalse(c.sessionId().isEmpty());
        Reply reply = c.send("hello there", "java-hello-1");
        Ack ack = await(reply.ack());
        FinalReply fin = await(reply.finalReply());
        assertEquals("java-hello-1", ack.id());
        assertFalse(ack.duplicate());
        assertEquals("java-hello-1", fin.replyTo());
        assertEquals(ack.messageId(), fin.messageId());
        assertFalse(fin.text().isBlank());
        assertFalse(fin.failed());
    }

    @Test
    void streamsDeltasThenCompletesWithTheFinalReply() {
        MoltBotClient c = connect();
        c.startTrace();
        Reply reply = c.send("tell me something");
        List<String> deltas = await(collect(reply.deltas())); // completes when the final reply arrives
        FinalReply fin = await(reply.finalReply());
        List<String> trace = c.trace();
        assertTrue(trace.get(0).endsWith(":ack"), trace.toString());
        assertTrue(trace.get(trace.size() - 1).endsWith(":reply.final"), trace.toString());
        assertEquals(count(trace, "reply.delta"), deltas.size());
        if (!deltas.isEmpty()) assertEquals(fin.text(), String.join("", deltas));
        // A late subscriber gets the same deltas from the first one.
        assertEquals(deltas, await(collect(reply.deltas())));
    }

    @Test
    void connectionDropMidReplyIsResumedAndEveryEventArrivesOnce() {
        MoltBotClient c = connect();
        c.startTrace();
        assertFalse(await(c.ask("first message")).text().isBlank());
        Reply reply = c.send("second message", "java-drop-1");
        // Cut the connection right after the frame left: the reply is produced while the client is away, kept by
        // the server and replayed on resume.
        c.abortConnectionForTests();
        List<String> deltas = await(collect(reply.deltas()));
        FinalReply fin = await(reply.finalReply());
        assertTrue(c.reconnects() >= 1);
        assertEquals("java-drop-1", fin.replyTo());
        assertFalse(fin.text().isBlank());
        if (!deltas.isEmpty()) assertEquals(fin.text(), String.join("", deltas));
        assertContiguous(c);
        assertEquals(2, count(c.trace(), "reply.final"));
        assertFalse(await(c.ask("third message")).text().isBlank());
    }

    @Test
    void eventsProducedWhileDisconnectedAreReplayedExactlyOnce() throws Exception {
        MoltBotClient c = connect();
        c.startTrace();
        await(c.ask("warm up"));
        c.pauseReadingForTests(); // from here on the client reads nothing: events pile up unread
        Reply reply = c.send("reply while I am away", "java-away-1");
        waitForReplies(c.conversationId(), 2); // the server has answered (and published)
        Thread.sleep(300);
        c.abortConnectionForTests(); // the unread ack and final are lost with the connection
        FinalReply fin = await(reply.finalReply());
        assertEquals("java-away-1", fin.replyTo());
        assertTrue(c.replayedEvents() >= 2, "replayed " + c.replayedEvents() + ", want at least the ack and the final");
        assertContiguous(c);
        assertEquals(2, count(c.trace(), "ack"), c.trace().toString()); // acked once: the replay made a resend unnecessary
        assertEquals(2, count(c.trace(), "reply.final"), c.trace().toString());
    }

    private static void waitForReplies(String conversation, int count) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(TIMEOUT_S);
        while (System.nanoTime() < deadline) {
            long out = server.history(conversation).stream().filter(m -> "out".equals(m.get("direction"))).count();
            if (out >= count) return;
            Thread.sleep(100);
        }
        throw new AssertionError("MoltBot did not answer " + count + " messages in " + conversation);
    }

    @Test
    void dropAfterAckResumesWithoutResending() {
        MoltBotClient c = connect();
        c.startTrace();
        Reply reply = c.send("a message", "java-drop-2");
        await(reply.ack());
        c.abortConnectionForTests();
        await(reply.finalReply());
        List<String> trace = c.trace();
        assertEquals(1, count(trace, "ack"), trace.toString()); // acked before the drop: never resent
        assertEquals(1, count(trace, "reply.final"), trace.toString());
        assertContiguous(c);
    }

    @Test
    void resendingAnIdReturnsTheOriginalReply() {
        MoltBotClient c = connect();
        FinalReply original = await(c.send("remember me", "java-idem-1").finalReply());
        Reply again = c.send("remember me", "java-idem-1");
        assertTrue(await(again.ack()).duplicate());
        FinalReply repeat = await(again.finalReply());
        assertEquals(original.messageId(), repeat.messageId());
        assertEquals(original.text(), repeat.text());
    }

    @Test
    void badTokenIsAnAuthenticationException() {
        Throwable error = failureOf(MoltBotClient.connect(server.wsUri, ClientOptions.of("wrong-token-wrong-token")));
        AuthenticationException auth = assertInstanceOf(AuthenticationException.class, error);
        assertEquals("auth_failed", auth.code());
        assertEquals(4001, auth.closeCode());
    }

    @Test
    void protocolVersionMismatchIsAClearError() {
        Throwable error = failureOf(MoltBotClient.connect(server.wsUri,
                options().withProtocolVersion(MoltBotClient.PROTOCOL_VERSION + 1)));
        ProtocolVersionException mismatch = assertInstanceOf(ProtocolVersionException.class, error);
        assertEquals("protocol_mismatch", mismatch.code());
        assertTrue(mismatch.getMessage().contains("server speaks protocol version 1"), mismatch.getMessage());
    }

    @Test
    void textOverTheLimitIsATypedErrorAndTheConnectionStaysUsable() {
        MoltBotClient c = connect();
        Reply reply = c.send("x".repeat((int) c.hello().maxTextLength() + 1));
        TextTooLongException error = assertInstanceOf(TextTooLongException.class, failureOf(reply.finalReply()));
        assertEquals("text_too_long", error.code());
        assertEquals(reply.id(), error.messageId());
        assertFalse(await(c.ask("still here?")).text().isBlank());
    }

    @Test
    void frameOverMaxFrameBytesIsRefusedBeforeSending() {
        MoltBotClient c = connect();
        MessageTooBigException error = assertThrows(MessageTooBigException.class,
                () -> c.send("y".repeat((int) c.hello().maxFrameBytes() + 10)));
        assertEquals("message_too_big", error.code());
        assertEquals(0, c.reconnects());
    }

    @Test
    void serverClose1009FailsThatMessageAndTheClientRecovers() {
        MoltBotClient c = connect();
        c.overrideMaxFrameBytesForTests(1L << 30); // so the frame reaches the server, which closes with 1009
        Reply big = c.send("z".repeat(20_000));
        MessageTooBigException error = assertInstanceOf(MessageTooBigException.class, failureOf(big.finalReply()));
        assertEquals(1009, error.closeCode());
        assertFalse(await(c.ask("after the big one")).text().isBlank());
        assertTrue(c.reconnects() >= 1);
    }

    @Test
    void historyReturnsTheConversation() {
        MoltBotClient c = connect();
        await(c.ask("history please"));
        List<Map<String, Object>> messages = await(c.history(10));
        assertTrue(messages.stream().anyMatch(m -> "history please".equals(m.get("text"))), messages.toString());
        assertTrue(messages.stream().allMatch(m -> m.get("direction") != null), messages.toString());
    }

    @Test
    void timeoutAndCancellationLeaveTheMessageInFlight() {
        MoltBotClient c = connect();
        c.pauseReadingForTests(); // the reply cannot arrive until reading resumes
        Reply reply = c.send("slow or not");
        CompletableFuture<FinalReply> impatient = reply.finalReply().orTimeout(200, TimeUnit.MILLISECONDS);
        assertInstanceOf(TimeoutException.class, failureOf(impatient));
        CompletableFuture<FinalReply> cancelled = reply.finalReply();
        cancelled.cancel(true);
        assertThrows(CancellationException.class, cancelled::join);
        c.resumeReadingForTests();
        assertFalse(await(reply.finalReply()).text().isBlank()); // still delivered afterwards
    }

    @Test
    void serverHeartbeatsAreAnsweredSoAnIdleClientStaysConnected() throws InterruptedException {
        MoltBotClient c = connect();
        assertEquals(1000, c.hello().heartbeatIntervalMs());
        Thread.sleep(4500); // > interval + timeout: an unanswered ping would have closed the connection
        assertFalse(await(c.ask("still connected?")).text().isBlank());
        assertEquals(0, c.reconnects());
    }

    @Test
    void pingRoundTrip() {
        MoltBotClient c = connect();
        assertEquals("pong", await(c.ping()).get("type"));
    }

    @Test
    void closeFailsFurtherCalls() {
        MoltBotClient c = connect();
        c.close();
        MoltBotException error = assertThrows(MoltBotException.class, () -> c.send("after close"));
        assertEquals("client_closed", error.code());
    }

    @Test
    void backoffGrowsExponentiallyUpToTheCap() {
        Backoff b = new Backoff(Duration.ofMillis(100), 2, Duration.ofSeconds(1), 5, false);
        long[] want = {100, 200, 400, 800, 1000, 1000};
        for (int n = 0; n < want.length; n++) assertEquals(want[n], b.delay(n).toMillis());
        assertTrue(b.allows(4));
        assertFalse(b.allows(5));
        Backoff jittered = new Backoff(Duration.ofMillis(100), 2, Duration.ofSeconds(1), 0, true);
        for (int n = 0; n < 20; n++) {
            long d = jittered.delay(n).toMillis();
            assertTrue(d >= 0 && d <= 1000, "delay " + d);
        }
    }

    @Test
    void jsonRoundTripsTheProtocolShapes() {
        String text = "{\"type\":\"reply.final\",\"seq\":7,\"text\":\"a \\\"q\\\" \\u00e9\\n\",\"failed\":false,\"card\":{\"x\":[1,2.5,null,true]}}";
        Map<String, Object> f = Json.parseObject(text);
        assertEquals(7L, f.get("seq"));
        assertEquals("a \"q\" \u00e9\n", f.get("text"));
        assertEquals(List.of(1L, 2.5, true), ((List<?>) ((Map<?, ?>) f.get("card")).get("x")).stream()
                .filter(java.util.Objects::nonNull).toList());
        assertEquals(f, Json.parseObject(Json.write(f)));
        assertThrows(IllegalArgumentException.class, () -> Json.parseObject("{\"a\":}"));
    }
}
