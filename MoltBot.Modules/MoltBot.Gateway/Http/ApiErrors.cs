using System.Text.Json;
using Microsoft.AspNetCore.Http;

namespace MoltBot.Gateway.Http;

/// <summary>
/// Every /v1 error has one shape, OpenAI's: {"error": {"message", "type", "param", "code"}}, so OpenAI clients
/// surface MoltBot's errors as they would OpenAI's.
/// </summary>
internal static class ApiErrors
{
    public const string InvalidRequest = "invalid_request_error";
    public const string Authentication = "authentication_error";
    public const string Server = "server_error";
    public const string NotFound = "not_found_error";

    public static async Task WriteAsync(HttpContext context, int status, string type, string code, string message,
        string? param = null, int? retryAfterSeconds = null)
    {
        var response = context.Response;
        if (response.HasStarted) return;
        response.StatusCode = status;
        response.ContentType = "application/json; charset=utf-8";
        if (retryAfterSeconds is { } r) response.Headers.RetryAfter = r.ToString(System.Globalization.CultureInfo.InvariantCulture);
        if (status == StatusCodes.Status401Unauthorized) response.Headers.WWWAuthenticate = "Bearer";
        await using var w = new Utf8JsonWriter(response.Body);
        w.WriteStartObject();
        w.WriteStartObject("error");
        w.WriteString("message", message);
        w.WriteString("type", type);
        if (param is null) w.WriteNull("param"); else w.WriteString("param", param);
        w.WriteString("code", code);
        w.WriteEndObject();
        w.WriteEndObject();
        await w.FlushAsync(context.RequestAborted).ConfigureAwait(false);
    }

    public static Task BadRequest(HttpContext c, string code, string message, string? param = null) =>
        WriteAsync(c, StatusCodes.Status400BadRequest, InvalidRequest, code, message, param);
}
