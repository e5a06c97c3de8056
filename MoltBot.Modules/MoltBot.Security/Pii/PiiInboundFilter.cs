using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Options;
using MoltBot.Contracts.Messaging;
using MoltBot.Contracts.Pipeline;
using MoltBot.Contracts.Security;

namespace MoltBot.Security.Pii;

/// <summary>
/// First thing on the shard worker: masks the text, the raw platform payload, the display name and attachment
/// file names, so the handler, the models, the logs and every store only ever see tokens.
/// </summary>
public sealed class PiiInboundFilter(IPiiMasker masker, IOptions<SecurityOptions> options) : IInboundFilter
{
    public static string ConversationKey(string platform, string conversationId) => platform + ":" + conversationId;

    public async ValueTask<Envelope?> ApplyAsync(Envelope envelope, CancellationToken cancellationToken)
    {
        if (!options.Value.Pii.Enabled) return envelope;
        string key = ConversationKey(envelope.Platform, envelope.ConversationId);
        // The text first, so token numbers follow the order a reader sees them in.
        string text = await masker.MaskAsync(key, envelope.Text, cancellationToken).ConfigureAwait(false);
        string? name = envelope.UserDisplayName is null ? null : await masker.MaskAsync(key, envelope.UserDisplayName, cancellationToken).ConfigureAwait(false);
        string? raw = envelope.Raw is null ? null : await MaskRawAsync(key, envelope.Raw, cancellationToken).ConfigureAwait(false);
        var attachments = envelope.Attachments;
        if (attachments.Any(a => a.FileName is not null))
        {
            var masked = new List<Attachment>(attachments.Count);
            foreach (var a in attachments)
                masked.Add(a.FileName is null ? a : a with { FileName = await masker.MaskAsync(key, a.FileName, cancellationToken).ConfigureAwait(false) });
            attachments = masked;
        }
        return envelope with { Text = text, UserDisplayName = name, Raw = raw, Attachments = attachments };
    }

    private static readonly JsonSerializerOptions RawJson = new() { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    /// <summary>
    /// Platform payloads are usually JSON, where escapes (\u002B for "+", \u0040 for "@") would hide values from a
    /// text scan: mask each decoded string value instead. Anything else is masked as plain text.
    /// </summary>
    private async ValueTask<string> MaskRawAsync(string key, string raw, CancellationToken cancellationToken)
    {
        JsonNode? root = null;
        if (raw.Length > 0 && raw.TrimStart() is ['{', ..] or ['[', ..])
        {
            try
            {
                root = JsonNode.Parse(raw);
            }
            catch (JsonException)
            {
                root = null;
            }
        }
        if (root is null) return await masker.MaskAsync(key, raw, cancellationToken).ConfigureAwait(false);
        await MaskNodeAsync(key, root, cancellationToken).ConfigureAwait(false);
        return root.ToJsonString(RawJson);
    }

    private async ValueTask MaskNodeAsync(string key, JsonNode node, CancellationToken cancellationToken)
    {
        switch (node)
        {
            case JsonObject obj:
                foreach (var (name, child) in obj.ToList())
                {
                    if (child is JsonValue v) obj[name] = await MaskValueAsync(key, v, cancellationToken).ConfigureAwait(false);
                    else if (child is not null) await MaskNodeAsync(key, child, cancellationToken).ConfigureAwait(false);
                }
                break;
            case JsonArray array:
                for (int i = 0; i < array.Count; i++)
                {
                    var child = array[i];
                    if (child is JsonValue v) array[i] = await MaskValueAsync(key, v, cancellationToken).ConfigureAwait(false);
                    else if (child is not null) await MaskNodeAsync(key, child, cancellationToken).ConfigureAwait(false);
                }
                break;
        }
    }

    /// <summary>Strings are masked; a number that is personal data (a phone or card sent as a JSON number) becomes its token string.</summary>
    private async ValueTask<JsonNode?> MaskValueAsync(string key, JsonValue value, CancellationToken cancellationToken)
    {
        if (value.TryGetValue<string>(out var s)) return await masker.MaskAsync(key, s, cancellationToken).ConfigureAwait(false);
        if (value.GetValueKind() != JsonValueKind.Number) return value.DeepClone();
        string text = value.ToJsonString();
        string masked = await masker.MaskAsync(key, text, cancellationToken).ConfigureAwait(false);
        return masked == text ? value.DeepClone() : JsonValue.Create(masked);
    }
}
