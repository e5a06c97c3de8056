using Microsoft.AspNetCore.Http;
using MoltBot.Contracts.Pipeline;

namespace MoltBot.Channels.Common;

/// <summary>How a webhook answers the platform for each enqueue outcome.</summary>
internal static class WebhookResults
{
    /// <summary>
    /// Accepted and Duplicate are 200 (a duplicate was handled the first time; re-processing would reply twice).
    /// Full and Closed are 503 + Retry-After so the platform delivers the same event again later: nothing is lost.
    /// </summary>
    public static IResult From(EnqueueResult worst, HttpContext context)
    {
        if (worst is EnqueueResult.Full or EnqueueResult.Closed)
        {
            context.Response.Headers.RetryAfter = worst == EnqueueResult.Full ? "1" : "5";
            return Results.StatusCode(StatusCodes.Status503ServiceUnavailable);
        }
        return Results.Ok();
    }

    /// <summary>Of several envelopes in one delivery, the outcome that decides the answer (a refusal beats success).</summary>
    public static EnqueueResult Worst(EnqueueResult a, EnqueueResult b) =>
        a is EnqueueResult.Full or EnqueueResult.Closed ? a : b is EnqueueResult.Full or EnqueueResult.Closed ? b : EnqueueResult.Accepted;

    public static bool FixedTimeEquals(string? a, string? b)
    {
        if (a is null || b is null) return false;
        var x = System.Text.Encoding.UTF8.GetBytes(a);
        var y = System.Text.Encoding.UTF8.GetBytes(b);
        return System.Security.Cryptography.CryptographicOperations.FixedTimeEquals(x, y);
    }
}
