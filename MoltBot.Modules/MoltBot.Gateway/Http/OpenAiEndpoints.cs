using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using MoltBot.Contracts.Inference;
using MoltBot.Contracts.Messaging;

namespace MoltBot.Gateway.Http;

/// <summary>
/// OpenAI-compatible POST /v1/chat/completions (JSON or SSE with stream=true) and GET /v1/models. The newest user
/// message of the request is the new turn; MoltBot keeps the context itself (per `user` and conversation), so the
/// reply goes through the same pipeline as any platform message.
/// </summary>
internal static class OpenAiEndpoints
{
    private static readonly long StartedUnix = DateTimeOffset.UtcNow.ToUnixTimeSeconds();

    public static void Map(IEndpointRouteBuilder endpoints)
    {
        endpoints.MapPost("/v1/chat/completions", ChatCompletionsAsync);
        endpoints.MapGet("/v1/models", ModelsAsync);
    }

    private static async Task ModelsAsync(HttpContext context)
    {
        if (!await RequestGuards.AuthorizeAsync(context)) return;
        var options = context.RequestServices.GetRequiredService<HttpSubmission>().Options;
        var catalog = context.RequestServices.GetService<IModelCatalog>();
        context.Response.ContentType = "application/json; charset=utf-8";
        await using var w = new Utf8JsonWriter(context.Response.Body);
        w.WriteStartObject();
        w.WriteString("object", "list");
        w.WriteStartArray("data");
        WriteModel(w, options.ModelName, null);
        foreach (var m in catalog?.Models ?? [])
        {
            if (m.Id != options.ModelName) WriteModel(w, m.Id, m);
        }
        w.WriteEndArray();
        w.WriteEndObject();
        await w.FlushAsync(context.RequestAborted);
    }

    private static void WriteModel(Utf8JsonWriter w, string id, ModelInfo? info)
    {
        w.WriteStartObject();
        w.WriteString("id", id);
        w.WriteString("object", "model");
        w.WriteNumber("created", StartedUnix);
        w.WriteString("owned_by", "moltbot");
        if (info is not null)
        {
            w.WriteString("kind", info.Kind);
            w.WriteString("precision", info.Precision);
            w.WriteNumber("parameters", info.Parameters);
            w.WriteBoolean("loaded", info.Loaded);
        }
        w.WriteEndObject();
    }

    private static async Task ChatCompletionsAsync(HttpContext context)
    {
        if (!await RequestGuards.AuthorizeAsync(context)) return;
        using var doc = await RequestGuards.ReadJsonObjectAsync(context);
        if (doc is null) return;
        var submission = context.RequestServices.GetRequiredService<HttpSubmission>();
        var body = doc.RootElement;

        string model = RequestGuards.String(body, "model", 128, out var modelError) ?? submission.Options.ModelName;
        string user = RequestGuards.String(body, "user", 128, out var userError) ?? "default";
        if ((modelError ?? userError) is { } fieldError)
        {
            await ApiErrors.BadRequest(context, "invalid_field", fieldError, modelError is null ? "user" : "model");
            return;
        }
        if (string.IsNullOrWhiteSpace(user)) user = "default";
        bool stream = false;
        if (body.TryGetProperty("stream", out var s) && s.ValueKind != JsonValueKind.Null)
        {
            if (s.ValueKind is not (JsonValueKind.True or JsonValueKind.False))
            {
                await ApiErrors.BadRequest(context, "invalid_field", "'stream' must be true or false.", "stream");
                return;
            }
            stream = s.GetBoolean();
        }
        var (text, textError) = LastUserText(body, submission.Options.MaxTextLength);
        if (textError is not null)
        {
            await ApiErrors.BadRequest(context, "invalid_field", textError, "messages");
            return;
        }
        string? conversation = MessagesEndpoints.ConversationOf(context, null, user);
        if (conversation is null)
        {
            await ApiErrors.BadRequest(context, "invalid_field", $"The {MessagesEndpoints.ConversationHeader} header must be 1..128 characters.", MessagesEndpoints.ConversationHeader);
            return;
        }

        var started = await submission.StartAsync(context, user, conversation, text!, null, null, streaming: stream);
        if (started is not { } run) return;
        string id = "chatcmpl-" + run.Envelope.Id;
        long created = DateTimeOffset.FromUnixTimeMilliseconds(run.Envelope.TimestampMs).ToUnixTimeSeconds();

        if (!stream)
        {
            var final = await submission.WaitFinalAsync(context, run.Envelope, run.Waiter, null);
            if (final is null) return;
            await WriteCompletionAsync(context, id, created, model, text!, final.Text);
            return;
        }

        var response = context.Response;
        response.ContentType = "text/event-stream; charset=utf-8";
        response.Headers.CacheControl = "no-cache";
        response.Headers["X-Accel-Buffering"] = "no";
        await WriteChunkAsync(context, id, created, model, w => { w.WriteString("role", "assistant"); w.WriteString("content", ""); }, null);
        var streamed = new StringBuilder();
        var last = await submission.WaitFinalAsync(context, run.Envelope, run.Waiter, async delta =>
        {
            streamed.Append(delta.Text);
            await WriteChunkAsync(context, id, created, model, w => w.WriteString("content", delta.Text), null);
        });
        if (last is null)
        {
            if (!context.RequestAborted.IsCancellationRequested)
            {
                await WriteSseAsync(context, "{\"error\":{\"message\":\"No reply in time.\",\"type\":\"server_error\",\"param\":null,\"code\":\"reply_timeout\"}}");
            }
            return;
        }
        // Handlers that do not stream (skills) only send a final text; send what the deltas did not cover.
        string sent = streamed.ToString();
        string rest = last.Text.StartsWith(sent, StringComparison.Ordinal) ? last.Text[sent.Length..] : (sent.Length == 0 ? last.Text : "");
        if (rest.Length > 0) await WriteChunkAsync(context, id, created, model, w => w.WriteString("content", rest), null);
        await WriteChunkAsync(context, id, created, model, _ => { }, "stop");
        await WriteSseAsync(context, "[DONE]");
    }

    /// <summary>The text of the last "user" message (string content or an array of {"type":"text"} parts).</summary>
    private static (string? Text, string? Error) LastUserText(JsonElement body, int maxLength)
    {
        if (!body.TryGetProperty("messages", out var messages) || messages.ValueKind != JsonValueKind.Array || messages.GetArrayLength() == 0)
            return (null, "'messages' must be a non-empty array of {\"role\", \"content\"} objects.");
        string? text = null;
        foreach (var m in messages.EnumerateArray())
        {
            if (m.ValueKind != JsonValueKind.Object || !m.TryGetProperty("role", out var role) || role.ValueKind != JsonValueKind.String)
                return (null, "Every message needs a string 'role'.");
            if (role.GetString() != "user") continue;
            if (!m.TryGetProperty("content", out var content)) return (null, "A user message needs 'content'.");
            if (content.ValueKind == JsonValueKind.String)
            {
                text = content.GetString();
            }
            else if (content.ValueKind == JsonValueKind.Array)
            {
                var sb = new StringBuilder();
                foreach (var part in content.EnumerateArray())
                {
                    if (part.ValueKind == JsonValueKind.Object && part.TryGetProperty("type", out var t) && t.ValueKind == JsonValueKind.String
                        && t.GetString() == "text" && part.TryGetProperty("text", out var pt) && pt.ValueKind == JsonValueKind.String)
                    {
                        if (sb.Length > 0) sb.Append('\n');
                        sb.Append(pt.GetString());
                    }
                }
                text = sb.ToString();
            }
            else
            {
                return (null, "'content' must be a string or an array of content parts.");
            }
        }
        if (string.IsNullOrWhiteSpace(text)) return (null, "'messages' must contain a user message with non-empty text content.");
        if (text.Length > maxLength) return (null, $"The user message is longer than {maxLength} characters.");
        return (text, null);
    }

    private static async Task WriteCompletionAsync(HttpContext context, string id, long created, string model, string prompt, string reply)
    {
        int promptUnits = TextUnits.Count(prompt), completionUnits = TextUnits.Count(reply);
        context.Response.ContentType = "application/json; charset=utf-8";
        await using var w = new Utf8JsonWriter(context.Response.Body);
        w.WriteStartObject();
        w.WriteString("id", id);
        w.WriteString("object", "chat.completion");
        w.WriteNumber("created", created);
        w.WriteString("model", model);
        w.WriteStartArray("choices");
        w.WriteStartObject();
        w.WriteNumber("index", 0);
        w.WriteStartObject("message");
        w.WriteString("role", "assistant");
        w.WriteString("content", reply);
        w.WriteEndObject();
        w.WriteNull("logprobs");
        w.WriteString("finish_reason", "stop");
        w.WriteEndObject();
        w.WriteEndArray();
        w.WriteStartObject("usage");
        w.WriteNumber("prompt_tokens", promptUnits);
        w.WriteNumber("completion_tokens", completionUnits);
        w.WriteNumber("total_tokens", promptUnits + completionUnits);
        w.WriteEndObject();
        w.WriteEndObject();
        await w.FlushAsync(context.RequestAborted);
    }

    private static Task WriteChunkAsync(HttpContext context, string id, long created, string model, Action<Utf8JsonWriter> delta, string? finishReason)
    {
        var buffer = new System.Buffers.ArrayBufferWriter<byte>(256);
        using (var w = new Utf8JsonWriter(buffer))
        {
            w.WriteStartObject();
            w.WriteString("id", id);
            w.WriteString("object", "chat.completion.chunk");
            w.WriteNumber("created", created);
            w.WriteString("model", model);
            w.WriteStartArray("choices");
            w.WriteStartObject();
            w.WriteNumber("index", 0);
            w.WriteStartObject("delta");
            delta(w);
            w.WriteEndObject();
            w.WriteNull("logprobs");
            if (finishReason is null) w.WriteNull("finish_reason"); else w.WriteString("finish_reason", finishReason);
            w.WriteEndObject();
            w.WriteEndArray();
            w.WriteEndObject();
        }
        return WriteSseAsync(context, Encoding.UTF8.GetString(buffer.WrittenSpan));
    }

    private static async Task WriteSseAsync(HttpContext context, string data)
    {
        await context.Response.WriteAsync("data: " + data + "\n\n", context.RequestAborted);
        await context.Response.Body.FlushAsync(context.RequestAborted);
    }
}
