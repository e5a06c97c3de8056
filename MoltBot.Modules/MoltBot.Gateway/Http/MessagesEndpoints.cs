using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using MoltBot.Contracts.Messaging;

namespace MoltBot.Gateway.Http;

/// <summary>POST /v1/messages (send and wait for the reply) and GET /v1/conversations/{id}/messages.</summary>
internal static class MessagesEndpoints
{
    public const string ConversationHeader = "X-MoltBot-Conversation";

    public static void Map(IEndpointRouteBuilder endpoints)
    {
        endpoints.MapPost("/v1/messages", PostMessageAsync);
        endpoints.MapGet("/v1/conversations/{id}/messages", GetMessagesAsync);
    }

    private static async Task PostMessageAsync(HttpContext context)
    {
        if (!await RequestGuards.AuthorizeAsync(context)) return;
        using var doc = await RequestGuards.ReadJsonObjectAsync(context);
        if (doc is null) return;
        var submission = context.RequestServices.GetRequiredService<HttpSubmission>();
        var body = doc.RootElement;
        var o = submission.Options;

        string? user = RequestGuards.String(body, "user", 128, out var e1);
        string? text = RequestGuards.String(body, "text", o.MaxTextLength, out var e2);
        string? conversation = RequestGuards.String(body, "conversation", 128, out var e3);
        string? lang = RequestGuards.String(body, "lang", 16, out var e4);
        string? id = RequestGuards.String(body, "id", 128, out var e5);
        if ((e1 ?? e2 ?? e3 ?? e4 ?? e5) is { } error)
        {
            await ApiErrors.BadRequest(context, "invalid_field", error);
            return;
        }
        if (string.IsNullOrWhiteSpace(user))
        {
            await ApiErrors.BadRequest(context, "invalid_field", "'user' is required: it identifies the MoltBot user.", "user");
            return;
        }
        if (string.IsNullOrWhiteSpace(text))
        {
            await ApiErrors.BadRequest(context, "invalid_field", "'text' is required and must not be empty.", "text");
            return;
        }
        conversation = ConversationOf(context, conversation, user);
        if (conversation is null)
        {
            await ApiErrors.BadRequest(context, "invalid_field", $"The {ConversationHeader} header must be 1..128 characters.", ConversationHeader);
            return;
        }

        var started = await submission.StartAsync(context, user, conversation, text, lang, string.IsNullOrEmpty(id) ? null : id, streaming: false);
        if (started is not { } s) return;
        var final = await submission.WaitFinalAsync(context, s.Envelope, s.Waiter, onDelta: null);
        if (final is null) return;

        context.Response.ContentType = "application/json; charset=utf-8";
        await using var w = new Utf8JsonWriter(context.Response.Body);
        w.WriteStartObject();
        w.WriteString("id", s.Envelope.Id);
        w.WriteString("user", user);
        w.WriteString("conversation", conversation);
        w.WriteStartObject("reply");
        w.WriteString("text", final.Text);
        w.WriteBoolean("failed", final.Kind == OutboundKind.Error);
        if (final.Language is not null) w.WriteString("lang", final.Language);
        if (final.Source is not null) w.WriteString("source", final.Source);
        if (final.CardJson is not null) w.WriteString("card", final.CardJson);
        w.WriteNumber("timestampMs", final.TimestampMs);
        w.WriteEndObject();
        w.WriteEndObject();
        await w.FlushAsync(context.RequestAborted);
    }

    private static async Task GetMessagesAsync(HttpContext context, string id)
    {
        if (!await RequestGuards.AuthorizeAsync(context)) return;
        var options = context.RequestServices.GetRequiredService<HttpSubmission>().Options;
        string platform = context.Request.Query["platform"].FirstOrDefault() ?? Platforms.Http;
        if (platform is not (Platforms.Http or Platforms.Web))
        {
            await ApiErrors.BadRequest(context, "invalid_field", "'platform' must be \"http\" or \"web\".", "platform");
            return;
        }
        int limit = Math.Min(50, options.HistoryPerConversation);
        if (context.Request.Query["limit"].FirstOrDefault() is { } l
            && (!int.TryParse(l, out limit) || limit < 1 || limit > options.HistoryPerConversation))
        {
            await ApiErrors.BadRequest(context, "invalid_field", $"'limit' must be an integer between 1 and {options.HistoryPerConversation}.", "limit");
            return;
        }
        var messages = await context.RequestServices.GetRequiredService<HistoryReader>().LastAsync(platform, id, limit, context.RequestAborted);
        context.Response.ContentType = "application/json; charset=utf-8";
        await using var w = new Utf8JsonWriter(context.Response.Body);
        w.WriteStartObject();
        w.WriteString("conversation", id);
        w.WriteString("platform", platform);
        w.WriteStartArray("messages");
        foreach (var m in messages) HistoryJson.Write(w, m);
        w.WriteEndArray();
        w.WriteEndObject();
        await w.FlushAsync(context.RequestAborted);
    }

    /// <summary>The X-MoltBot-Conversation header wins, then the body's field, then the user's own conversation. Null: bad header.</summary>
    public static string? ConversationOf(HttpContext context, string? fromBody, string user)
    {
        if (context.Request.Headers.TryGetValue(ConversationHeader, out var values))
        {
            string header = values.ToString().Trim();
            return header.Length is >= 1 and <= 128 ? header : null;
        }
        return string.IsNullOrWhiteSpace(fromBody) ? user : fromBody;
    }
}
