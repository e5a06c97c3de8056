using System.Diagnostics;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using MoltBot.Contracts.Security;

namespace MoltBot.Security.Admin;

/// <summary>Who is calling the admin API: the API key's id and its role.</summary>
public sealed record AdminPrincipal(string KeyId, string Name, string Role);

/// <summary>
/// Guards every /admin endpoint: bearer API key → 401 when missing or wrong (counted per client IP; too many → 429),
/// the endpoint's <see cref="RequiresPermission"/> against the role's grants → 403, and an audit record for every
/// operation that got past authentication (allowed or denied).
/// </summary>
public sealed class AdminAuthFilter(
    ApiKeyStore keys,
    FailedAuthLimiter limiter,
    IAuditLog audit,
    IOptions<SecurityOptions> options,
    TimeProvider clock,
    ILogger<AdminAuthFilter> logger) : IEndpointFilter
{
    public const string PrincipalItem = "moltbot.admin.principal";

    public async ValueTask<object?> InvokeAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        var http = context.HttpContext;
        string ip = http.Connection.RemoteIpAddress?.ToString() ?? "unknown";
        int retry = limiter.RetryAfterSeconds(ip);
        if (retry > 0)
        {
            http.Response.Headers.RetryAfter = retry.ToString(System.Globalization.CultureInfo.InvariantCulture);
            return AdminResults.Error(StatusCodes.Status429TooManyRequests, $"too many failed authentications from this address; retry in {retry} s");
        }

        string? header = http.Request.Headers.Authorization;
        ApiKeyRecord? key = null;
        if (header is not null && header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase))
            key = await keys.AuthenticateAsync(header["Bearer ".Length..].Trim(), http.RequestAborted).ConfigureAwait(false);
        if (key is null)
        {
            limiter.RecordFailure(ip);
            http.Response.Headers.WWWAuthenticate = "Bearer";
            return AdminResults.Error(StatusCodes.Status401Unauthorized,
                header is null ? "missing Authorization: Bearer <api key>" : "invalid or revoked API key");
        }

        var endpoint = http.GetEndpoint();
        string action = (endpoint as RouteEndpoint)?.Metadata.GetMetadata<IEndpointNameMetadata>()?.EndpointName ?? http.Request.Path;
        string target = string.Join(",", http.Request.RouteValues.Select(kv => kv.Key + "=" + kv.Value));
        var principal = new AdminPrincipal(key.Id, key.Name, key.Role);
        var rule = endpoint?.Metadata.GetMetadata<RequiresPermission>();
        if (rule is null || !AdminPermissions.Allows(options.Value, key.Role, rule.Permission))
        {
            await AuditAsync(principal, action, target, "denied", 0, http.RequestAborted).ConfigureAwait(false);
            return AdminResults.Error(StatusCodes.Status403Forbidden, rule is null
                ? "this endpoint has no permission rule; it is refused to every role"
                : $"role '{key.Role}' lacks permission '{rule.Permission}'");
        }

        http.Items[PrincipalItem] = principal;
        long start = Stopwatch.GetTimestamp();
        object? result;
        try
        {
            result = await next(context).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            logger.LogError(ex, "Admin operation {Action} failed", action);
            await AuditAsync(principal, action, target, "error:" + ex.GetType().Name, Stopwatch.GetElapsedTime(start).TotalMilliseconds, CancellationToken.None).ConfigureAwait(false);
            throw;
        }
        int status = result is IStatusCodeHttpResult { StatusCode: { } code } ? code : StatusCodes.Status200OK;
        await AuditAsync(principal, action, target, status.ToString(System.Globalization.CultureInfo.InvariantCulture),
            Stopwatch.GetElapsedTime(start).TotalMilliseconds, CancellationToken.None).ConfigureAwait(false);
        return result;
    }

    private ValueTask AuditAsync(AdminPrincipal who, string action, string target, string outcome, double ms, CancellationToken ct) =>
        audit.AppendAsync(new AuditEntry("apikey:" + who.KeyId, who.Role, action, target)
        {
            TimestampMs = clock.GetUtcNow().ToUnixTimeMilliseconds(),
            LatencyMs = Math.Round(ms, 3),
            Outcome = outcome,
        }, ct);
}

/// <summary>JSON error bodies of the admin API: { "error": "..." }.</summary>
public static class AdminResults
{
    public static IResult Error(int status, string message) => Results.Json(new { error = message }, statusCode: status);

    public static IResult NotAvailable(string port) =>
        Error(StatusCodes.Status503ServiceUnavailable, $"{port} is not available in this build (no module registers it)");
}
