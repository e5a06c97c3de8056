using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Options;
using MoltBot.Contracts.Messaging;
using MoltBot.Contracts.Pipeline;

namespace MoltBot.Gateway.Http;

/// <summary>Starts one HTTP message through the pipeline and reports refusals (full queue, shutdown, duplicate) as JSON errors.</summary>
internal sealed class HttpSubmission(GatewayIntake intake, OutboundRouter router, IOptions<GatewayOptions> options)
{
    public GatewayOptions Options => options.Value;

    /// <returns>The waiter, or null when an error response was written.</returns>
    public async Task<(Envelope Envelope, ReplyWaiter Waiter)?> StartAsync(HttpContext context, string user, string conversation,
        string text, string? language, string? clientId, bool streaming)
    {
        var envelope = new Envelope
        {
            Id = intake.NewMessageId(),
            Platform = Platforms.Http,
            PlatformMessageId = clientId is null ? null : user + "/" + clientId,
            ConversationId = conversation,
            UserId = user,
            TimestampMs = intake.NowMs,
            Text = text,
            Language = language,
        };
        var waiter = new ReplyWaiter(streaming);
        int retry = options.Value.RetryAfterSeconds;
        switch (intake.Submit(envelope, waiter))
        {
            case EnqueueResult.Accepted:
                return (envelope, waiter);
            case EnqueueResult.Full:
                await ApiErrors.WriteAsync(context, StatusCodes.Status503ServiceUnavailable, ApiErrors.Server, "queue_full",
                    "MoltBot is busy (inbound queue full); retry after the Retry-After delay.", retryAfterSeconds: retry).ConfigureAwait(false);
                return null;
            case EnqueueResult.Closed:
                await ApiErrors.WriteAsync(context, StatusCodes.Status503ServiceUnavailable, ApiErrors.Server, "shutting_down",
                    "MoltBot is shutting down; retry later.", retryAfterSeconds: retry).ConfigureAwait(false);
                return null;
            default:
                await ApiErrors.WriteAsync(context, StatusCodes.Status409Conflict, ApiErrors.InvalidRequest, "duplicate_message",
                    $"A message with id '{clientId}' from this user was already accepted; its reply is in the conversation history.", "id").ConfigureAwait(false);
                return null;
        }
    }

    /// <summary>Waits for the final event; null after a timeout (error response written) or a client disconnect.</summary>
    public async Task<OutboundMessage?> WaitFinalAsync(HttpContext context, Envelope envelope, ReplyWaiter waiter, Func<OutboundMessage, Task>? onDelta)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted);
        timeout.CancelAfter(TimeSpan.FromSeconds(options.Value.ReplyTimeoutSeconds));
        try
        {
            await foreach (var m in waiter.Events.ReadAllAsync(timeout.Token).ConfigureAwait(false))
            {
                if (m.Kind is OutboundKind.Final or OutboundKind.Error) return m;
                if (onDelta is not null) await onDelta(m).ConfigureAwait(false);
            }
            throw new InvalidOperationException("The reply stream ended without a final reply.");
        }
        catch (OperationCanceledException) when (!context.RequestAborted.IsCancellationRequested)
        {
            await ApiErrors.WriteAsync(context, StatusCodes.Status504GatewayTimeout, ApiErrors.Server, "reply_timeout",
                $"No reply within {options.Value.ReplyTimeoutSeconds} s; it will appear in GET /v1/conversations/{envelope.ConversationId}/messages.").ConfigureAwait(false);
            return null;
        }
        catch (OperationCanceledException)
        {
            return null;
        }
        catch (InvalidOperationException ex)
        {
            await ApiErrors.WriteAsync(context, StatusCodes.Status500InternalServerError, ApiErrors.Server, "reply_lost", ex.Message).ConfigureAwait(false);
            return null;
        }
        finally
        {
            router.Unregister(envelope.Id);
        }
    }
}
