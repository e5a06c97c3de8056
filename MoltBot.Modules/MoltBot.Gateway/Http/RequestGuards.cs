using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;

namespace MoltBot.Gateway.Http;

/// <summary>Bearer authentication and JSON body reading shared by the /v1 endpoints; failures answer with <see cref="ApiErrors"/>.</summary>
internal static class RequestGuards
{
    private const int MaxBodyBytes = 1024 * 1024;

    public static async Task<bool> AuthorizeAsync(HttpContext context)
    {
        var tokens = context.RequestServices.GetRequiredService<GatewayTokens>();
        string? bearer = GatewayTokens.BearerOf(context.Request);
        if (tokens.IsValid(bearer)) return true;
        await ApiErrors.WriteAsync(context, StatusCodes.Status401Unauthorized, ApiErrors.Authentication,
            bearer is null ? "missing_api_key" : "invalid_api_key",
            bearer is null ? "Send 'Authorization: Bearer <token>' (a Gateway:Tokens entry or the web-chat token)." : "The bearer token is not valid.").ConfigureAwait(false);
        return false;
    }

    /// <summary>The request's JSON object, or null after writing a 400/413 error.</summary>
    public static async Task<JsonDocument?> ReadJsonObjectAsync(HttpContext context)
    {
        if (context.Request.ContentLength > MaxBodyBytes)
        {
            await ApiErrors.WriteAsync(context, StatusCodes.Status413PayloadTooLarge, ApiErrors.InvalidRequest, "body_too_large",
                $"The request body is larger than {MaxBodyBytes} bytes.").ConfigureAwait(false);
            return null;
        }
        JsonDocument doc;
        try
        {
            using var limited = new MemoryStream();
            await context.Request.Body.CopyToAsync(limited, context.RequestAborted).ConfigureAwait(false);
            if (limited.Length > MaxBodyBytes)
            {
                await ApiErrors.WriteAsync(context, StatusCodes.Status413PayloadTooLarge, ApiErrors.InvalidRequest, "body_too_large",
                    $"The request body is larger than {MaxBodyBytes} bytes.").ConfigureAwait(false);
                return null;
            }
            limited.Position = 0;
            doc = await JsonDocument.ParseAsync(limited, cancellationToken: context.RequestAborted).ConfigureAwait(false);
        }
        catch (JsonException ex)
        {
            await ApiErrors.BadRequest(context, "invalid_json", "The request body is not valid JSON: " + ex.Message).ConfigureAwait(false);
            return null;
        }
        if (doc.RootElement.ValueKind != JsonValueKind.Object)
        {
            doc.Dispose();
            await ApiErrors.BadRequest(context, "invalid_json", "The request body must be a JSON object.").ConfigureAwait(false);
            return null;
        }
        return doc;
    }

    /// <summary>A string property: null when absent or null; an error (returned as text) when of another type or too long.</summary>
    public static string? String(JsonElement obj, string name, int maxLength, out string? error)
    {
        error = null;
        if (!obj.TryGetProperty(name, out var v) || v.ValueKind == JsonValueKind.Null) return null;
        if (v.ValueKind != JsonValueKind.String)
        {
            error = $"'{name}' must be a string.";
            return null;
        }
        string s = v.GetString()!;
        if (s.Length > maxLength)
        {
            error = $"'{name}' is longer than {maxLength} characters.";
            return null;
        }
        return s;
    }
}
