using System.Net;

namespace MoltBot.Channels.Common;

/// <summary>The platform said "too many requests": wait <see cref="RetryAfter"/> before the next attempt.</summary>
public sealed class RateLimitedException(string platform, TimeSpan retryAfter)
    : Exception($"{platform} rate limit: retry after {retryAfter.TotalSeconds:F2} s")
{
    public TimeSpan RetryAfter { get; } = retryAfter;
}

/// <summary>A failure worth retrying (5xx, connection reset): the platform may accept the same request later.</summary>
public sealed class TransientChannelException(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>
/// The platform rejected the request for good (4xx other than 429, outside the 24-hour window, unknown chat):
/// retrying cannot help, so the outbox moves it to the dead-letter file instead of blocking the queue.
/// </summary>
public sealed class PermanentDeliveryException(string message) : Exception(message);

internal static class HttpFailures
{
    /// <summary>Maps an unsuccessful HTTP response to the right exception kind (rate limit, transient, permanent).</summary>
    public static Exception From(string platform, HttpResponseMessage response, string body, TimeSpan? retryAfterFromBody = null)
    {
        int code = (int)response.StatusCode;
        if (response.StatusCode == HttpStatusCode.TooManyRequests)
        {
            var after = retryAfterFromBody ?? RetryAfterHeader(response) ?? TimeSpan.FromSeconds(1);
            return new RateLimitedException(platform, after);
        }
        string snippet = body.Length > 300 ? body[..300] : body;
        if (code >= 500 || code == 408) return new TransientChannelException($"{platform} answered {code}: {snippet}");
        return new PermanentDeliveryException($"{platform} answered {code}: {snippet}");
    }

    public static TimeSpan? RetryAfterHeader(HttpResponseMessage response)
    {
        var ra = response.Headers.RetryAfter;
        if (ra?.Delta is { } d) return d;
        if (ra?.Date is { } date) return date - DateTimeOffset.UtcNow;
        return null;
    }
}
