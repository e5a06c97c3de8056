package dev.moltbot.sdk;

import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.concurrent.Flow;

/**
 * One sent message: its acknowledgement, its streamed reply deltas and its final reply. The futures returned are
 * copies: cancelling one or putting a timeout on it ({@code orTimeout}) only ends that wait, the message stays in
 * flight and later calls still get the reply.
 */
public final class Reply {
    private final String id;
    private final CompletableFuture<Ack> ack = new CompletableFuture<>();
    private final CompletableFuture<FinalReply> finalReply = new CompletableFuture<>();
    private final ReplayPublisher<String> deltas;
    private final Executor callbacks;

    // Guarded by the client's lock.
    final String frame;
    final long order;
    int epoch = -1; // connection that carried the frame last; -1: not sent yet
    boolean acked;

    Reply(String id, String frame, long order, Executor callbacks) {
        this.id = id;
        this.frame = frame;
        this.order = order;
        this.callbacks = callbacks;
        this.deltas = new ReplayPublisher<>(callbacks);
    }

    /** The client message id. */
    public String id() {
        return id;
    }

    public CompletableFuture<Ack> ack() {
        return ack.copy();
    }

    public CompletableFuture<FinalReply> finalReply() {
        return finalReply.copy();
    }

    /** The reply's text pieces in order, from the first, then completion (or the message's error). */
    public Flow.Publisher<String> deltas() {
        return deltas;
    }

    /** The deltas received so far. */
    public List<String> deltasSoFar() {
        return deltas.snapshot();
    }

    public boolean isDone() {
        return finalReply.isDone();
    }

    // Completions run on the callback executor: user stages never run on (and never block) the network thread.
    void onAck(Ack a) {
        callbacks.execute(() -> ack.complete(a));
    }

    void onDelta(String text) {
        deltas.next(text);
    }

    void onFinal(FinalReply f) {
        deltas.complete();
        callbacks.execute(() -> finalReply.complete(f));
    }

    void fail(Throwable error) {
        deltas.fail(error);
        callbacks.execute(() -> {
            ack.completeExceptionally(error);
            finalReply.completeExceptionally(error);
        });
    }
}
