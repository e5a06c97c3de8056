package dev.moltbot.sdk;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.WebSocket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Executor;
import java.util.concurrent.Executors;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.Flow;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.SubmissionPublisher;
import java.util.concurrent.TimeUnit;

/**
 * Client for the MoltBot WebSocket gateway ({@code /ws}, protocol version 1, docs/protocol.md).
 *
 * <p>The connection is re-established automatically (exponential backoff) and the session resumed from the last
 * sequence number seen, so every event of a reply arrives exactly once across connection drops. Futures and
 * {@link Flow} signals complete on one callback thread per client, never on the network thread.
 */
public final class MoltBotClient implements AutoCloseable {
    public static final int PROTOCOL_VERSION = 1;

    static final int CLOSE_MESSAGE_TOO_BIG = 1009;
    static final int CLOSE_TRY_AGAIN_LATER = 1013; // Gateway:MaxSessions reached
    static final int CLOSE_AUTH_FAILED = 4001;
    static final int CLOSE_AUTH_TIMEOUT = 4002;
    static final int CLOSE_SESSION_TAKEN_OVER = 4009;
    private static final int MAX_COMPLETED_IDS = 10_000;

    private final URI uri;
    private final ClientOptions options;
    private final HttpClient http;
    private final ScheduledExecutorService scheduler;
    private final Executor callbacks;
    private final SubmissionPublisher<Event> events;

    private final Object lock = new Object();
    private Connection current;
    private int epoch;
    private Hello hello;
    private String sessionId;
    private String userId;
    private String conversationId;
    private String user;
    private String conversation;
    private long lastSeq;
    private long resendAfter = -1;
    private final Map<String, Reply> pending = new HashMap<>();
    private final LinkedHashSet<String> completed = new LinkedHashSet<>();
    private final ArrayDeque<HistoryRequest> history = new ArrayDeque<>();
    private final Map<String, CompletableFuture<Map<String, Object>>> pings = new HashMap<>();
    private long sent;
    private int reconnects;
    private long replayed; // events the server kept while we were away and replayed on resume
    private MoltBotException fatal;
    private boolean closed;
    private List<String> trace; // tests: accepted events as "seq:type", to prove exactly-once delivery

    private MoltBotClient(URI uri, ClientOptions options) {
        this.uri = uri;
        this.options = options;
        this.user = options.user();
        this.conversation = options.conversation();
        this.http = HttpClient.newBuilder().connectTimeout(options.connectTimeout()).build();
        this.scheduler = Executors.newSingleThreadScheduledExecutor(daemon("moltbot-timer"));
        // One callback thread at most (ordered completions), gone when idle, so a client needs no shutdown for it.
        this.callbacks = new ThreadPoolExecutor(0, 1, 1, TimeUnit.SECONDS, new LinkedBlockingQueue<>(), daemon("moltbot-callbacks"));
        this.events = new SubmissionPublisher<>(callbacks, options.eventBuffer());
    }

    /**
     * Connects, checks the server's protocol version and authenticates. Fails with {@link AuthenticationException}
     * (bad token), {@link ProtocolVersionException} or a network error.
     */
    public static CompletableFuture<MoltBotClient> connect(URI uri, ClientOptions options) {
        MoltBotClient client = new MoltBotClient(uri, options);
        return client.open().handle((ok, error) -> {
            if (error != null) {
                client.shutdownExecutors();
                throw error instanceof CompletionException ce ? ce : new CompletionException(error);
            }
            return client;
        });
    }

    public Hello hello() {
        synchronized (lock) {
            return hello;
        }
    }

    public String sessionId() {
        synchronized (lock) {
            return sessionId;
        }
    }

    public long lastSeq() {
        synchronized (lock) {
            return lastSeq;
        }
    }

    /** The conversation of the session. */
    public String conversationId() {
        synchronized (lock) {
            return conversationId;
        }
    }

    /** Events the server kept while the client was away and replayed on resume. */
    public long replayedEvents() {
        synchronized (lock) {
            return replayed;
        }
    }

    /** Successful reconnects so far. */
    public int reconnects() {
        synchronized (lock) {
            return reconnects;
        }
    }

    /**
     * Events not tied to a pending message (typing, proactive messages, uncorrelated errors), for current
     * subscribers; a subscriber more than {@code eventBuffer} events behind loses the oldest.
     */
    public Flow.Publisher<Event> events() {
        return events;
    }

    /** Sends a message with a random client message id. */
    public Reply send(String text) {
        return send(text, UUID.randomUUID().toString());
    }

    /**
     * Sends a message with client message id {@code id}. Sending an id again is idempotent: the server answers
     * with the original acknowledgement and reply instead of handling the message twice. While reconnecting the
     * message is queued and sent once the session is back.
     *
     * @throws MessageTooBigException when the frame exceeds the server's maxFrameBytes (nothing is sent)
     */
    public Reply send(String text, String id) {
        Map<String, Object> f = new LinkedHashMap<>();
        f.put("type", "send");
        f.put("id", id);
        f.put("text", text);
        String frame = Json.write(f);
        Reply reply;
        Connection conn;
        synchronized (lock) {
            checkUsable();
            Reply existing = pending.get(id);
            if (existing != null) return existing;
            int size = frame.getBytes(StandardCharsets.UTF_8).length;
            if (hello != null && size > hello.maxFrameBytes()) {
                // The server would close the connection with 1009; refuse here so nothing else in flight is disturbed.
                throw new MessageTooBigException("frame of " + size + " bytes exceeds the server's maxFrameBytes "
                        + hello.maxFrameBytes(), CLOSE_MESSAGE_TOO_BIG, id);
            }
            reply = new Reply(id, frame, ++sent, callbacks);
            completed.remove(id); // an explicit resend of a finished id gets the original reply again
            pending.put(id, reply);
            conn = current != null && resendAfter < 0 ? current : null;
            if (conn != null) reply.epoch = conn.epoch;
        }
        if (conn != null) conn.send(frame);
        return reply;
    }

    /** Sends a message and completes with its final reply. */
    public CompletableFuture<FinalReply> ask(String text) {
        return send(text).finalReply();
    }

    /** Sends a message and completes with its final reply, or fails with a TimeoutException (the message stays in flight). */
    public CompletableFuture<FinalReply> ask(String text, Duration timeout) {
        return send(text).finalReply().orTimeout(timeout.toMillis(), TimeUnit.MILLISECONDS);
    }

    /** The last {@code limit} messages of the conversation (maps with id, direction, user, text, timestampMs, ...). */
    public CompletableFuture<List<Map<String, Object>>> history(int limit) {
        HistoryRequest request = new HistoryRequest(Json.write(Map.of("type", "history", "limit", limit)));
        Connection conn;
        synchronized (lock) {
            checkUsable();
            // Answers come in request order; an abandoned request stays queued so the order keeps matching.
            history.add(request);
            conn = current != null && resendAfter < 0 ? current : null;
            if (conn != null) request.epoch = conn.epoch;
        }
        if (conn != null) conn.send(request.frame);
        return request.result.copy();
    }

    /** Tells the server the user is typing. */
    public CompletableFuture<Void> typing(boolean active) {
        return sendNow(Json.write(Map.of("type", "typing", "active", active))).thenApply(ws -> null);
    }

    /** Application-level round trip; completes with the pong frame. */
    public CompletableFuture<Map<String, Object>> ping() {
        String nonce = UUID.randomUUID().toString();
        CompletableFuture<Map<String, Object>> result = new CompletableFuture<>();
        synchronized (lock) {
            pings.put(nonce, result);
        }
        result.whenComplete((r, e) -> {
            synchronized (lock) {
                pings.remove(nonce);
            }
        });
        sendNow(Json.write(Map.of("type", "ping", "nonce", nonce))).exceptionally(e -> {
            result.completeExceptionally(e);
            return null;
        });
        return result.copy();
    }

    /** Closes the connection; whatever still waits fails with code {@code client_closed}. */
    @Override
    public void close() {
        Connection conn;
        synchronized (lock) {
            if (closed) return;
            closed = true;
            conn = current;
            current = null;
        }
        if (conn != null) conn.close();
        failAll(new MoltBotException("client_closed", "the client was closed"));
        shutdownExecutors();
    }

    // ---- connection ------------------------------------------------------------------------------------------

    private CompletableFuture<Void> open() {
        int myEpoch;
        synchronized (lock) {
            myEpoch = ++epoch;
        }
        Connection conn = new Connection(myEpoch);
        http.newWebSocketBuilder().connectTimeout(options.connectTimeout()).buildAsync(uri, conn)
                .whenComplete((ws, error) -> {
                    if (error != null) conn.ready.completeExceptionally(unwrap(error));
                });
        // Hello, auth and session must complete within the connect timeout too.
        ScheduledFuture<?> deadline = scheduler.schedule(() -> {
            if (conn.ready.completeExceptionally(new ConnectionLostException("no session within the connect timeout", 0))) conn.abort();
        }, options.connectTimeout().toMillis(), TimeUnit.MILLISECONDS);
        conn.ready.whenComplete((ok, error) -> deadline.cancel(false));
        return conn.ready;
    }

    private Map<String, Object> authFrame() {
        Map<String, Object> auth = new LinkedHashMap<>();
        auth.put("type", "auth");
        auth.put("token", options.token());
        synchronized (lock) {
            if (user != null) auth.put("user", user);
            if (conversation != null) auth.put("conversation", conversation);
            if (options.lang() != null) auth.put("lang", options.lang());
            if (sessionId != null) auth.put("resume", Map.of("session", sessionId, "lastSeq", lastSeq));
        }
        return auth;
    }

    /** Makes conn the live connection and settles what the previous one left behind. */
    private void attach(Connection conn, Map<String, Object> session, MoltBotException resumeError) {
        List<String> frames = new ArrayList<>();
        synchronized (lock) {
            if (closed) {
                conn.close();
                return;
            }
            current = conn;
            sessionId = Frames.str(session, "session");
            userId = Frames.str(session, "user");
            conversationId = Frames.str(session, "conversation");
            if (user == null) user = userId; // a new session after a failed resume keeps the user and conversation
            if (conversation == null) conversation = conversationId;
            if (Frames.bool(session, "resumed")) replayed += Math.max(0, Frames.num(session, "lastSeq") - lastSeq);
            if (resumeError != null || !Frames.bool(session, "resumed")) {
                lastSeq = 0;
                if (resumeError != null) failSentLocked(resumeError);
            }
            resendAfter = Frames.num(session, "lastSeq");
            maybeResendLocked(frames);
        }
        frames.forEach(conn::send);
        conn.startIdleWatch();
    }

    private void dispatch(Connection conn, Map<String, Object> f) {
        List<String> resend = new ArrayList<>();
        Event event = null;
        synchronized (lock) {
            if (conn != current) return; // a late frame of a replaced connection
            if (f.get("seq") instanceof Number n) {
                long seq = n.longValue();
                if (seq <= lastSeq) return; // already seen (resume replays from our lastSeq; this guards against overlap)
                lastSeq = seq;
                if (trace != null) trace.add(seq + ":" + Frames.str(f, "type"));
            }
            String type = String.valueOf(f.get("type"));
            String replyTo = Frames.str(f, "replyTo");
            Reply reply = replyTo == null ? null : pending.get(replyTo);
            switch (type) {
                case "ack" -> {
                    Reply target = pending.get(Frames.str(f, "id"));
                    if (target != null && !target.acked) {
                        target.acked = true;
                        target.onAck(new Ack(Frames.str(f, "id"), Frames.str(f, "messageId"), Frames.bool(f, "duplicate")));
                    }
                }
                case "reply.delta" -> {
                    if (reply != null) reply.onDelta(String.valueOf(f.getOrDefault("text", "")));
                    else if (!completed.contains(replyTo)) {
                        event = new Event.Delta(replyTo, Frames.str(f, "messageId"), String.valueOf(f.getOrDefault("text", "")));
                    }
                }
                case "reply.final" -> {
                    if (reply != null) {
                        pending.remove(replyTo);
                        rememberCompletedLocked(replyTo);
                        reply.onFinal(FinalReply.from(f));
                    } else if (replyTo == null) {
                        event = new Event.Proactive(FinalReply.from(f)); // e.g. a reminder
                    } // else: a duplicate final of a message already answered: delivered once, so dropped here
                }
                case "typing" -> event = new Event.Typing(replyTo, Frames.bool(f, "active"));
                case "history" -> {
                    HistoryRequest request = history.poll();
                    if (request != null) request.complete(f);
                }
                case "pong" -> {
                    CompletableFuture<Map<String, Object>> waiter = pings.get(Frames.str(f, "nonce"));
                    if (waiter != null) callbacks.execute(() -> waiter.complete(f));
                }
                case "error" -> {
                    MoltBotException error = MoltBotException.fromFrame(f);
                    Reply target = error.messageId() == null ? null : pending.remove(error.messageId());
                    if (target != null) target.fail(error);
                    else event = new Event.Error(error);
                }
                default -> {
                    // Unknown server frames are ignored: newer servers may add events within the same protocol version.
                }
            }
            maybeResendLocked(resend);
        }
        resend.forEach(conn::send);
        if (event != null) publish(event);
    }

    /** Once the replay after a resume is through, collects what the server never acknowledged, in send order. */
    private void maybeResendLocked(List<String> out) {
        if (resendAfter < 0 || lastSeq < resendAfter || current == null) return;
        resendAfter = -1;
        int live = current.epoch;
        pending.values().stream().filter(r -> !r.acked && r.epoch != live)
                .sorted(Comparator.comparingLong(r -> r.order))
                .forEach(r -> {
                    r.epoch = live;
                    out.add(r.frame);
                });
        for (HistoryRequest h : history) {
            if (h.epoch != live) {
                h.epoch = live;
                out.add(h.frame);
            }
        }
    }

    private void connectionLost(Connection conn, int code, String reason) {
        synchronized (lock) {
            if (conn != current || closed) return;
            current = null;
            if (code == CLOSE_MESSAGE_TOO_BIG) {
                // Only an unacknowledged message can have been too big; resending it would close the connection again.
                MoltBotException error = MoltBotException.fromClose(code, reason);
                pending.values().removeIf(r -> {
                    if (r.acked || r.epoch != conn.epoch) return false;
                    r.fail(error);
                    return true;
                });
            }
        }
        if (code == CLOSE_AUTH_FAILED || code == CLOSE_AUTH_TIMEOUT || code == CLOSE_SESSION_TAKEN_OVER) {
            shutdown(MoltBotException.fromClose(code, reason));
            return;
        }
        reconnect(0, code, reason);
    }

    private void reconnect(int attempt, int code, String reason) {
        if (!options.backoff().allows(attempt)) {
            shutdown(new ConnectionLostException("could not reconnect after " + attempt + " attempts: " + reason, code));
            return;
        }
        Runnable attemptNow = () -> {
            synchronized (lock) {
                if (closed) return;
            }
            open().whenComplete((ok, error) -> {
                if (error == null) {
                    synchronized (lock) {
                        reconnects++;
                    }
                    return;
                }
                Throwable cause = unwrap(error);
                if (cause instanceof AuthenticationException || cause instanceof ProtocolVersionException) {
                    shutdown((MoltBotException) cause);
                } else {
                    reconnect(attempt + 1, code, reason);
                }
            });
        };
        try {
            scheduler.schedule(attemptNow, options.backoff().delay(attempt).toMillis(), TimeUnit.MILLISECONDS);
        } catch (RejectedExecutionException closedMeanwhile) {
            // close() stopped the timer: nothing to reconnect for.
        }
    }

    private CompletableFuture<WebSocket> sendNow(String frame) {
        Connection conn;
        synchronized (lock) {
            checkUsable();
            conn = current;
        }
        if (conn == null) return CompletableFuture.failedFuture(new ConnectionLostException("the client is reconnecting; try again", 0));
        return conn.send(frame);
    }

    // ---- bookkeeping -----------------------------------------------------------------------------------------

    private void checkUsable() {
        if (fatal != null) throw fatal;
        if (closed) throw new MoltBotException("client_closed", "the client was closed");
    }

    private void rememberCompletedLocked(String id) {
        completed.add(id);
        if (completed.size() > MAX_COMPLETED_IDS) completed.remove(completed.iterator().next());
    }

    /** A failed resume: what went out on the lost session fails; messages never sent stay queued for the new one. */
    private void failSentLocked(MoltBotException error) {
        pending.values().removeIf(r -> {
            if (r.epoch < 0) return false;
            r.fail(error);
            return true;
        });
        history.removeIf(h -> {
            if (h.epoch < 0) return false;
            h.fail(error);
            return true;
        });
    }

    private void shutdown(MoltBotException error) {
        Connection conn;
        synchronized (lock) {
            if (fatal != null || closed) return;
            fatal = error;
            conn = current;
            current = null;
        }
        if (conn != null) conn.abort();
        failAll(error);
    }

    private void failAll(MoltBotException error) {
        List<Reply> replies;
        List<HistoryRequest> requests;
        List<CompletableFuture<Map<String, Object>>> waiters;
        synchronized (lock) {
            replies = new ArrayList<>(pending.values());
            pending.clear();
            requests = new ArrayList<>(history);
            history.clear();
            waiters = new ArrayList<>(pings.values());
        }
        replies.forEach(r -> r.fail(error));
        requests.forEach(h -> h.fail(error));
        waiters.forEach(w -> w.completeExceptionally(error));
        callbacks.execute(() -> events.closeExceptionally(error));
    }

    private void shutdownExecutors() {
        scheduler.shutdownNow();
    }

    private void publish(Event event) {
        try {
            events.offer(event, (subscriber, dropped) -> false); // a subscriber too far behind loses the oldest
        } catch (IllegalStateException closedAlready) {
            // The client failed or was closed: there is nobody left to tell.
        }
    }

    /** Tests: drops the TCP connection without a close handshake, as a network failure would. */
    void abortConnectionForTests() {
        Connection conn;
        synchronized (lock) {
            conn = current;
        }
        if (conn != null) {
            conn.abort();
            // java.net.http does not report its own abort to the listener; a real network failure reaches onError.
            connectionLost(conn, 0, "connection aborted");
        }
    }

    /** Tests: the client stops reading, as a stalled client would; what arrives stays unread. */
    void pauseReadingForTests() {
        Connection conn;
        synchronized (lock) {
            conn = current;
        }
        if (conn != null) conn.paused = true;
    }

    /** Tests: reads again, starting with the frames held while paused. */
    void resumeReadingForTests() {
        Connection conn;
        synchronized (lock) {
            conn = current;
        }
        if (conn != null) conn.resumeReading();
    }

    /** Tests: starts recording accepted event types in sequence order. */
    void startTrace() {
        synchronized (lock) {
            trace = new ArrayList<>();
        }
    }

    /** Tests: accepted events as "seq:type". */
    List<String> trace() {
        synchronized (lock) {
            return List.copyOf(trace);
        }
    }

    /** Tests: pretend the server allows bigger frames. */
    void overrideMaxFrameBytesForTests(long value) {
        synchronized (lock) {
            hello = new Hello(hello.protocol(), hello.heartbeatIntervalMs(), hello.heartbeatTimeoutMs(), value,
                    hello.maxTextLength(), hello.raw());
        }
    }

    private static Throwable unwrap(Throwable t) {
        while (t instanceof CompletionException && t.getCause() != null) t = t.getCause();
        return t;
    }

    private static java.util.concurrent.ThreadFactory daemon(String name) {
        return r -> {
            Thread t = new Thread(r, name);
            t.setDaemon(true);
            return t;
        };
    }

    private final class HistoryRequest {
        final String frame;
        final CompletableFuture<List<Map<String, Object>>> result = new CompletableFuture<>();
        int epoch = -1;

        HistoryRequest(String frame) {
            this.frame = frame;
        }

        @SuppressWarnings("unchecked")
        void complete(Map<String, Object> f) {
            List<Map<String, Object>> messages = new ArrayList<>();
            if (f.get("messages") instanceof List<?> list) {
                for (Object m : list) {
                    if (m instanceof Map<?, ?> map) messages.add((Map<String, Object>) map);
                }
            }
            callbacks.execute(() -> result.complete(List.copyOf(messages)));
        }

        void fail(Throwable error) {
            callbacks.execute(() -> result.completeExceptionally(error));
        }
    }

    /** One WebSocket connection: the handshake, then frames to {@link #dispatch}. Listener calls are sequential. */
    private final class Connection implements WebSocket.Listener {
        final int epoch;
        final CompletableFuture<Void> ready = new CompletableFuture<>();
        private final StringBuilder buffer = new StringBuilder();
        private WebSocket ws;
        private boolean established;
        private MoltBotException resumeError;
        private CompletableFuture<WebSocket> sendChain; // java.net.http allows one outstanding send at a time
        private volatile long lastActivityNanos = System.nanoTime();
        private volatile long idleLimitNanos;
        private volatile ScheduledFuture<?> idleWatch;
        volatile boolean paused; // tests: stop asking java.net.http for more frames
        private final List<String> held = new ArrayList<>();

        Connection(int epoch) {
            this.epoch = epoch;
        }

        @Override
        public void onOpen(WebSocket webSocket) {
            synchronized (this) {
                ws = webSocket;
                sendChain = CompletableFuture.completedFuture(webSocket);
            }
            webSocket.request(1);
        }

        @Override
        public CompletionStage<?> onText(WebSocket webSocket, CharSequence data, boolean last) {
            lastActivityNanos = System.nanoTime();
            buffer.append(data);
            if (last) {
                String text = buffer.toString();
                buffer.setLength(0);
                synchronized (held) {
                    if (paused) {
                        held.add(text); // tests: kept unread, and no more frames are asked for
                        return null;
                    }
                }
                process(text);
            }
            webSocket.request(1);
            return null;
        }

        private void process(String text) {
            try {
                handle(Json.parseObject(text));
            } catch (IllegalArgumentException badJson) {
                publish(new Event.Error(new MoltBotException("invalid_json", "the server sent a frame that is not JSON")));
            } catch (MoltBotException handshakeError) {
                ready.completeExceptionally(handshakeError);
                abort();
            }
        }

        void resumeReading() {
            List<String> frames;
            synchronized (held) {
                paused = false;
                frames = new ArrayList<>(held);
                held.clear();
            }
            frames.forEach(this::process);
            WebSocket socket;
            synchronized (this) {
                socket = ws;
            }
            if (socket != null) socket.request(1);
        }

        @Override
        public CompletionStage<?> onPing(WebSocket webSocket, java.nio.ByteBuffer message) {
            lastActivityNanos = System.nanoTime(); // java.net.http answers the ping with a pong itself
            if (!paused) webSocket.request(1);
            return null;
        }

        @Override
        public CompletionStage<?> onClose(WebSocket webSocket, int statusCode, String reason) {
            ended(statusCode, reason);
            return null;
        }

        @Override
        public void onError(WebSocket webSocket, Throwable error) {
            ended(0, String.valueOf(error.getMessage()));
        }

        private void ended(int code, String reason) {
            if (!ready.isDone()) {
                ready.completeExceptionally(MoltBotException.fromClose(code, reason));
                return;
            }
            if (established) connectionLost(this, code, reason);
        }

        private void handle(Map<String, Object> f) {
            if (established) {
                dispatch(this, f);
                return;
            }
            String type = Frames.str(f, "type");
            if ("hello".equals(type)) {
                Hello h = Hello.from(f);
                if (h.protocol() != options.protocolVersion()) throw new ProtocolVersionException(h.protocol(), options.protocolVersion());
                synchronized (lock) {
                    hello = h;
                }
                if (h.heartbeatIntervalMs() > 0) {
                    // The server pings every interval; silence for two intervals plus its timeout means a dead link.
                    idleLimitNanos = TimeUnit.MILLISECONDS.toNanos(2 * h.heartbeatIntervalMs() + h.heartbeatTimeoutMs() + 1000);
                }
                send(Json.write(authFrame()));
            } else if ("error".equals(type)) {
                MoltBotException error = MoltBotException.fromFrame(f);
                if (!"resume_failed".equals(error.code())) throw error;
                resumeError = error;
            } else if ("session".equals(type)) {
                established = true;
                attach(this, f, resumeError);
                ready.complete(null);
            } else {
                throw new MoltBotException("invalid_hello", "expected hello or session, got " + type);
            }
        }

        CompletableFuture<WebSocket> send(String frame) {
            synchronized (this) {
                if (ws == null) return CompletableFuture.failedFuture(new ConnectionLostException("not connected", 0));
                WebSocket socket = ws;
                // A failed send is noticed by the listener (onError/onClose), which reconnects and resends.
                sendChain = sendChain.handle((x, e) -> null).thenCompose(x -> socket.sendText(frame, true));
                return sendChain;
            }
        }

        void startIdleWatch() {
            long limit = idleLimitNanos;
            if (limit <= 0) return;
            long period = Math.max(100, TimeUnit.NANOSECONDS.toMillis(limit) / 4);
            try {
                idleWatch = scheduler.scheduleWithFixedDelay(() -> {
                    synchronized (lock) {
                        if (current != this) {
                            idleWatch.cancel(false);
                            return;
                        }
                    }
                    if (System.nanoTime() - lastActivityNanos > limit) {
                        abort();
                        connectionLost(this, 0, "no frame and no ping from the server for too long");
                    }
                }, period, period, TimeUnit.MILLISECONDS);
            } catch (RejectedExecutionException closedMeanwhile) {
                // close() stopped the timer.
            }
        }

        void close() {
            WebSocket socket;
            synchronized (this) {
                socket = ws;
            }
            if (socket != null) {
                socket.sendClose(WebSocket.NORMAL_CLOSURE, "bye").orTimeout(1, TimeUnit.SECONDS)
                        .whenComplete((x, e) -> socket.abort());
            }
        }

        void abort() {
            WebSocket socket;
            synchronized (this) {
                socket = ws;
            }
            if (socket != null) socket.abort();
        }
    }
}
