using System.Globalization;
using System.Text.Json;
using MoltBot.Channels.Common;
using MoltBot.Contracts.Messaging;

namespace MoltBot.Channels.WhatsApp;

/// <summary>A delivery status callback (sent, delivered, read, failed) for a message MoltBot sent.</summary>
public sealed record WhatsAppStatus(string MessageId, string Status, string RecipientId, long TimestampMs, string? Error);

/// <summary>Turns a WhatsApp Cloud API webhook body (entry[].changes[].value) into envelopes and status callbacks.</summary>
public static class WhatsAppNormalizer
{
    public static (IReadOnlyList<Envelope> Messages, IReadOnlyList<WhatsAppStatus> Statuses) Normalize(JsonElement root)
    {
        var messages = new List<Envelope>();
        var statuses = new List<WhatsAppStatus>();
        if (!root.TryGetProperty("entry", out var entries) || entries.ValueKind != JsonValueKind.Array)
        {
            throw new FormatException("WhatsApp webhook body has no 'entry' array.");
        }
        foreach (var entry in entries.EnumerateArray())
        {
            if (!entry.TryGetProperty("changes", out var changes)) continue;
            foreach (var change in changes.EnumerateArray())
            {
                if (!change.TryGetProperty("value", out var value)) continue;
                string account = value.TryGetProperty("metadata", out var meta) ? Str(meta, "phone_number_id") ?? "default" : "default";
                var names = new Dictionary<string, string>();
                if (value.TryGetProperty("contacts", out var contacts))
                {
                    foreach (var c in contacts.EnumerateArray())
                    {
                        if (Str(c, "wa_id") is { } wa && c.TryGetProperty("profile", out var profile) && Str(profile, "name") is { } name) names[wa] = name;
                    }
                }
                if (value.TryGetProperty("messages", out var msgs))
                {
                    foreach (var m in msgs.EnumerateArray()) messages.Add(Message(m, account, names));
                }
                if (value.TryGetProperty("statuses", out var sts))
                {
                    foreach (var s in sts.EnumerateArray())
                    {
                        string? error = s.TryGetProperty("errors", out var errs) && errs.GetArrayLength() > 0
                            ? Str(errs[0], "title") ?? errs[0].GetRawText() : null;
                        statuses.Add(new WhatsAppStatus(Str(s, "id") ?? "", Str(s, "status") ?? "", Str(s, "recipient_id") ?? "",
                            Seconds(s), error));
                    }
                }
            }
        }
        return (messages, statuses);
    }

    private static Envelope Message(JsonElement m, string account, Dictionary<string, string> names)
    {
        string from = Str(m, "from") ?? throw new FormatException("WhatsApp message without 'from'.");
        string id = Str(m, "id") ?? throw new FormatException("WhatsApp message without 'id'.");
        string type = Str(m, "type") ?? "unknown";
        string? replyTo = m.TryGetProperty("context", out var ctx) ? Str(ctx, "id") : null;
        var kind = MessageType.Text;
        string text = "";
        var attachments = new List<Attachment>();
        switch (type)
        {
            case "text":
                text = Markup.FromWhatsApp(m.GetProperty("text").GetProperty("body").GetString() ?? "");
                break;
            case "image" or "sticker" or "video" or "audio" or "document":
                var media = m.GetProperty(type);
                kind = type switch { "image" or "sticker" => MessageType.Image, "audio" => MessageType.Audio, _ => MessageType.File };
                text = Markup.FromWhatsApp(Str(media, "caption") ?? "");
                attachments.Add(new Attachment
                {
                    Kind = type == "audio" && media.TryGetProperty("voice", out var v) && v.ValueKind == JsonValueKind.True ? "voice" : type,
                    Id = Str(media, "id"),
                    MimeType = Str(media, "mime_type"),
                    FileName = Str(media, "filename"),
                });
                break;
            case "interactive":
                var inter = m.GetProperty("interactive");
                string itype = Str(inter, "type") ?? "";
                var reply = inter.TryGetProperty(itype, out var r) ? r : default;
                // The user tapped a button or list row: its title is what they "said".
                text = reply.ValueKind == JsonValueKind.Object ? Str(reply, "title") ?? Str(reply, "id") ?? "" : "";
                break;
            case "button":
                text = Str(m.GetProperty("button"), "text") ?? "";
                break;
            case "reaction":
                var reaction = m.GetProperty("reaction");
                kind = MessageType.Reaction;
                text = Str(reaction, "emoji") ?? "";
                replyTo = Str(reaction, "message_id");
                break;
            case "location":
                var loc = m.GetProperty("location");
                kind = MessageType.System;
                text = string.Create(CultureInfo.InvariantCulture, $"location {loc.GetProperty("latitude").GetDouble()},{loc.GetProperty("longitude").GetDouble()}");
                break;
            default:
                kind = MessageType.System;
                text = "unsupported message type: " + type;
                break;
        }
        return new Envelope
        {
            Id = $"{Platforms.WhatsApp}:{account}:{from}:{id}",
            Platform = Platforms.WhatsApp,
            PlatformMessageId = id,
            Account = account,
            ConversationId = from,
            UserId = from,
            UserDisplayName = names.GetValueOrDefault(from),
            TimestampMs = Seconds(m),
            Type = kind,
            Text = text,
            Attachments = attachments,
            ReplyToId = replyTo,
            Raw = m.GetRawText(),
        };
    }

    private static long Seconds(JsonElement e) =>
        long.TryParse(Str(e, "timestamp"), NumberStyles.Integer, CultureInfo.InvariantCulture, out long s) ? s * 1000 : 0;

    private static string? Str(JsonElement e, string name) =>
        e.ValueKind == JsonValueKind.Object && e.TryGetProperty(name, out var p) && p.ValueKind == JsonValueKind.String ? p.GetString() : null;
}
