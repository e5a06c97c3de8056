package dev.moltbot.sdk;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Executor;
import java.util.concurrent.Flow;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A {@link Flow.Publisher} that gives every subscriber all items from the first one, honouring its demand, then
 * completion or the error. Signals run on the client's callback executor, never on the network thread.
 */
final class ReplayPublisher<T> implements Flow.Publisher<T> {
    private final Executor executor;
    private final List<T> items = new ArrayList<>();
    private final List<Sub> subscribers = new ArrayList<>();
    private boolean complete;
    private Throwable error;

    ReplayPublisher(Executor executor) {
        this.executor = executor;
    }

    synchronized List<T> snapshot() {
        return List.copyOf(items);
    }

    void next(T item) {
        List<Sub> subs;
        synchronized (this) {
            if (complete || error != null) return;
            items.add(item);
            subs = List.copyOf(subscribers);
        }
        subs.forEach(Sub::signal);
    }

    void complete() {
        terminate(null);
    }

    void fail(Throwable t) {
        terminate(t);
    }

    private void terminate(Throwable t) {
        List<Sub> subs;
        synchronized (this) {
            if (complete || error != null) return;
            if (t == null) complete = true;
            else error = t;
            subs = List.copyOf(subscribers);
        }
        subs.forEach(Sub::signal);
    }

    @Override
    public void subscribe(Flow.Subscriber<? super T> subscriber) {
        Sub sub = new Sub(subscriber);
        synchronized (this) {
            subscribers.add(sub);
        }
        executor.execute(() -> {
            subscriber.onSubscribe(sub);
            sub.subscribed = true;
            sub.signal();
        });
    }

    private final class Sub implements Flow.Subscription {
        private final Flow.Subscriber<? super T> subscriber;
        private final AtomicInteger wip = new AtomicInteger();
        private volatile boolean subscribed;
        private long demand;
        private int index;
        private boolean cancelled;
        private boolean done;

        Sub(Flow.Subscriber<? super T> subscriber) {
            this.subscriber = subscriber;
        }

        @Override
        public void request(long n) {
            synchronized (ReplayPublisher.this) {
                if (n <= 0) {
                    cancelled = true;
                    subscribers.remove(this);
                    executor.execute(() -> subscriber.onError(new IllegalArgumentException("request(" + n + "): n must be positive")));
                    return;
                }
                demand = demand + n < 0 ? Long.MAX_VALUE : demand + n;
            }
            signal();
        }

        @Override
        public void cancel() {
            synchronized (ReplayPublisher.this) {
                cancelled = true;
                subscribers.remove(this);
            }
        }

        void signal() {
            if (subscribed && wip.getAndIncrement() == 0) executor.execute(this::drain);
        }

        private void drain() {
            do {
                while (true) {
                    T item = null;
                    boolean finish = false;
                    Throwable failure;
                    synchronized (ReplayPublisher.this) {
                        if (cancelled || done) break;
                        failure = error;
                        if (index < items.size() && demand > 0) {
                            item = items.get(index++);
                            demand--;
                        } else if (index == items.size() && (complete || error != null)) {
                            finish = true;
                            done = true;
                            subscribers.remove(this);
                        } else {
                            break;
                        }
                    }
                    if (item != null) subscriber.onNext(item);
                    else if (finish && failure != null) subscriber.onError(failure);
                    else if (finish) subscriber.onComplete();
                }
            } while (wip.decrementAndGet() != 0);
        }
    }
}
