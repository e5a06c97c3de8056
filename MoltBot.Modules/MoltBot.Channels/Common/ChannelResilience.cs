using System.Net.WebSockets;
using Microsoft.Extensions.Logging;
using Polly;
using Polly.CircuitBreaker;
using Polly.Retry;
using Polly.Timeout;

namespace MoltBot.Channels.Common;

/// <summary>
/// The Polly pipeline of one platform connection: retry (exponential backoff with jitter, honouring the platform's
/// Retry-After) around a circuit breaker around a per-attempt timeout.
/// </summary>
internal static class ChannelResilience
{
    public static ResiliencePipeline Build(ChannelOptions o, ChannelStateTracker state, ILogger logger)
    {
        var transient = new PredicateBuilder()
            .Handle<HttpRequestException>()
            .Handle<TimeoutRejectedException>()
            .Handle<TransientChannelException>()
            .Handle<WebSocketException>()
            .Handle<IOException>();
        return new ResiliencePipelineBuilder { Name = state.Platform }
            .AddRetry(new RetryStrategyOptions
            {
                MaxRetryAttempts = o.MaxRetryAttempts,
                BackoffType = DelayBackoffType.Exponential,
                UseJitter = true,
                Delay = TimeSpan.FromMilliseconds(o.RetryBaseDelayMilliseconds),
                MaxDelay = TimeSpan.FromSeconds(60),
                ShouldHandle = new PredicateBuilder()
                    .Handle<HttpRequestException>()
                    .Handle<TimeoutRejectedException>()
                    .Handle<TransientChannelException>()
                    .Handle<WebSocketException>()
                    .Handle<IOException>()
                    .Handle<RateLimitedException>()
                    .Handle<BrokenCircuitException>(),
                // The platform's own wait time wins over our backoff: hammering a 429 only extends the ban.
                DelayGenerator = args => ValueTask.FromResult<TimeSpan?>(args.Outcome.Exception switch
                {
                    RateLimitedException r => r.RetryAfter,
                    BrokenCircuitException b when b.RetryAfter is { } after => after,
                    _ => null,
                }),
                OnRetry = args =>
                {
                    logger.LogWarning("{Platform}: attempt {Attempt} failed ({Error}); retrying in {Delay} ms",
                        state.Platform, args.AttemptNumber + 1, args.Outcome.Exception?.GetType().Name, (int)args.RetryDelay.TotalMilliseconds);
                    ChannelMetrics.Retries.WithLabels(state.Platform).Inc();
                    return ValueTask.CompletedTask;
                },
            })
            .AddCircuitBreaker(new CircuitBreakerStrategyOptions
            {
                FailureRatio = 0.8,
                MinimumThroughput = 10,
                SamplingDuration = TimeSpan.FromSeconds(30),
                BreakDuration = TimeSpan.FromSeconds(o.CircuitBreakSeconds),
                ShouldHandle = transient,
                OnOpened = _ =>
                {
                    logger.LogError("{Platform}: circuit open for {Seconds} s after repeated failures", state.Platform, o.CircuitBreakSeconds);
                    state.CircuitOpened();
                    return ValueTask.CompletedTask;
                },
                OnClosed = _ =>
                {
                    state.CircuitClosed();
                    return ValueTask.CompletedTask;
                },
            })
            .AddTimeout(TimeSpan.FromSeconds(o.RequestTimeoutSeconds))
            .Build();
    }
}
