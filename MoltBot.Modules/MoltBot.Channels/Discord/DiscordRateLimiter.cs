using System.Collections.Concurrent;
using System.Globalization;
using System.Text.Json;
using MoltBot.Channels.Common;
using MoltBot.Contracts.Messaging;

namespace MoltBot.Channels.Discord;

/// <summary>
/// Discord REST rate limits: each route maps to a bucket (X-RateLimit-Bucket) per major parameter (the channel);
/// when a bucket's X-RateLimit-Remaining reaches 0 the next request on it waits X-RateLimit-Reset-After instead of
/// drawing a 429. A 429 ({"retry_after", "global"}) pauses that bucket, or every request when global.
/// </summary>
internal sealed class DiscordRateLimiter(TimeProvider clock)
{
    private readonly ConcurrentDictionary<string, string> _routeToBucket = new();
    private readonly ConcurrentDictionary<string, BucketState> _buckets = new();
    private long _globalUntilTicks;

    private sealed record BucketState(int Remaining, DateTimeOffset ResetAt);

    /// <summary>Waits until the route's bucket (and the global limit) allow a request.</summary>
    public async Task WaitAsync(string route, string majorParameter, CancellationToken cancellationToken)
    {
        var now = clock.GetUtcNow();
        var global = new DateTimeOffset(Interlocked.Read(ref _globalUntilTicks), TimeSpan.Zero);
        TimeSpan wait = global > now ? global - now : TimeSpan.Zero;
        if (_routeToBucket.TryGetValue(route, out var bucket) && _buckets.TryGetValue(bucket + ":" + majorParameter, out var state)
            && state.Remaining <= 0 && state.ResetAt > now)
        {
            var bucketWait = state.ResetAt - now;
            if (bucketWait > wait) wait = bucketWait;
        }
        if (wait > TimeSpan.Zero) await Task.Delay(wait, cancellationToken).ConfigureAwait(false);
    }

    private static readonly TimeSpan ResetMargin = TimeSpan.FromMilliseconds(50);

    /// <summary>Learns the bucket from the response headers; turns a 429 into a <see cref="RateLimitedException"/>.</summary>
    public void Observe(string route, string majorParameter, HttpResponseMessage response, string body)
    {
        var now = clock.GetUtcNow();
        if (Header(response, "X-RateLimit-Bucket") is { } bucket)
        {
            _routeToBucket[route] = bucket;
            int remaining = int.TryParse(Header(response, "X-RateLimit-Remaining"), NumberStyles.Integer, CultureInfo.InvariantCulture, out int r) ? r : 1;
            double resetAfter = double.TryParse(Header(response, "X-RateLimit-Reset-After"), NumberStyles.Float, CultureInfo.InvariantCulture, out double ra) ? ra : 0;
            // A small margin: Reset-After is rounded to milliseconds and timers may fire a little early, and a request
            // sent a hair before the reset draws a 429 (seen under load). Waiting 50 ms longer costs nothing.
            _buckets[bucket + ":" + majorParameter] = new BucketState(remaining, now + TimeSpan.FromSeconds(resetAfter) + ResetMargin);
        }
        if ((int)response.StatusCode != 429) return;
        double retryAfter = 1;
        bool isGlobal = false;
        try
        {
            using var doc = JsonDocument.Parse(body);
            if (doc.RootElement.TryGetProperty("retry_after", out var ra2) && ra2.TryGetDouble(out double v)) retryAfter = v;
            if (doc.RootElement.TryGetProperty("global", out var g)) isGlobal = g.ValueKind == JsonValueKind.True;
        }
        catch (JsonException)
        {
            if (HttpFailures.RetryAfterHeader(response) is { } h) retryAfter = h.TotalSeconds;
        }
        var delay = TimeSpan.FromSeconds(Math.Max(0, retryAfter));
        if (isGlobal || Header(response, "X-RateLimit-Global") == "true") Interlocked.Exchange(ref _globalUntilTicks, (now + delay).UtcTicks);
        throw new RateLimitedException(Platforms.Discord, delay);
    }

    private static string? Header(HttpResponseMessage response, string name) =>
        response.Headers.TryGetValues(name, out var values) ? values.FirstOrDefault() : null;
}
