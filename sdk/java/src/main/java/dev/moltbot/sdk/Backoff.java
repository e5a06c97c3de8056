package dev.moltbot.sdk;

import java.time.Duration;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Reconnect policy: attempt n (0-based) waits a random time in [0, min(max, initial * factor^n)] (full jitter, so
 * clients dropped together do not reconnect in lock step). {@code maxAttempts} 0 retries until closed.
 */
public record Backoff(Duration initial, double factor, Duration max, int maxAttempts, boolean jitter) {
    public static final Backoff DEFAULT = new Backoff(Duration.ofMillis(200), 2, Duration.ofSeconds(10), 10, true);

    public Duration delay(int attempt) {
        double ceiling = Math.min(max.toNanos(), initial.toNanos() * Math.pow(factor, attempt));
        double nanos = jitter ? ThreadLocalRandom.current().nextDouble() * ceiling : ceiling;
        return Duration.ofNanos((long) nanos);
    }

    public boolean allows(int attempt) {
        return maxAttempts <= 0 || attempt < maxAttempts;
    }
}
