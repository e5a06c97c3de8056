using System.Globalization;
using System.Text.Json;
using MoltBot.Channels.Common;
using MoltBot.Contracts.Messaging;

namespace MoltBot.Channels.Slack;

/// <summary>Turns Socket Mode envelope payloads (events_api, slash_commands) into envelopes; null when not a user message.</summary>
public static class SlackNormalizer
{
    /// <param name="payload">The envelope's "payload" object.</param>
    public static Envelope? FromEventsApi(JsonElement payload)
    {
        string team = Str(payload, "team_id") ?? "default";
        var ev = payload.GetProperty("event");
        string type = Str(ev, "type") ?? throw new FormatException("Slack event without 'type'.");
        switch (type)
        {
            case "message" or "app_mention":
                return Message(ev, team);
            case "reaction_added":
                var item = ev.GetProperty("item");
                string channel = Str(item, "channel") ?? throw new FormatException("reaction_added without item.channel.");
                string eventTs = Str(ev, "event_ts") ?? "";
                return new Envelope
                {
                    Id = $"{Platforms.Slack}:{team}:{channel}:reaction:{eventTs}",
                    Platform = Platforms.Slack,
                    PlatformMessageId = "reaction:" + eventTs,
                    Account = team,
                    ConversationId = channel,
                    UserId = Str(ev, "user") ?? "",
                    TimestampMs = TsToMs(eventTs),
                    Type = MessageType.Reaction,
                    Text = ":" + Str(ev, "reaction") + ":",
                    ReplyToId = Str(item, "ts"),
                    Raw = payload.GetRawText(),
                };
            default:
                return null;
        }
    }

    private static Envelope? Message(JsonElement ev, string team)
    {
        string? subtype = Str(ev, "subtype");
        // Our own and other bots' posts come back as events too: answering them would loop.
        if (ev.TryGetProperty("bot_id", out _) || subtype is "bot_message" or "message_deleted" or "message_replied") return null;
        string channel = Str(ev, "channel") ?? throw new FormatException("Slack message without 'channel'.");
        var kind = MessageType.Text;
        var msg = ev;
        string pmid;
        if (subtype == "message_changed")
        {
            msg = ev.GetProperty("message");
            if (msg.TryGetProperty("bot_id", out _)) return null;
            kind = MessageType.Edit;
            pmid = (Str(msg, "ts") ?? "") + ":edit:" + (Str(ev, "event_ts") ?? Str(ev, "ts"));
        }
        else
        {
            if (subtype is "channel_join" or "channel_leave" or "channel_topic" or "channel_purpose") kind = MessageType.System;
            else if (subtype is not (null or "file_share" or "thread_broadcast" or "me_message")) return null;
            pmid = Str(msg, "ts") ?? throw new FormatException("Slack message without 'ts'.");
        }
        string text = Markup.FromSlackMrkdwn(Str(msg, "text") ?? "");
        var attachments = new List<Attachment>();
        if (msg.TryGetProperty("files", out var files) && files.ValueKind == JsonValueKind.Array)
        {
            foreach (var f in files.EnumerateArray())
            {
                string? mime = Str(f, "mimetype");
                attachments.Add(new Attachment
                {
                    Kind = AttachmentKinds.FromMimeType(mime),
                    Id = Str(f, "id"),
                    Url = Str(f, "url_private"),
                    MimeType = mime,
                    FileName = Str(f, "name"),
                    SizeBytes = f.TryGetProperty("size", out var size) && size.TryGetInt64(out long n) ? n : null,
                });
            }
            if (kind == MessageType.Text && attachments.Count > 0)
            {
                kind = AttachmentKinds.MessageTypeOf(attachments[0].Kind);
            }
        }
        if (kind == MessageType.Text && text.StartsWith('/')) kind = MessageType.Command;
        string ts = Str(msg, "ts") ?? "";
        string? thread = Str(msg, "thread_ts");
        return new Envelope
        {
            Id = $"{Platforms.Slack}:{team}:{channel}:{pmid}",
            Platform = Platforms.Slack,
            PlatformMessageId = pmid,
            Account = team,
            ConversationId = channel,
            UserId = Str(msg, "user") ?? "",
            TimestampMs = TsToMs(kind == MessageType.Edit ? Str(ev, "event_ts") ?? ts : ts),
            Type = kind,
            Text = text,
            Attachments = attachments,
            ReplyToId = kind == MessageType.Edit ? ts : thread is not null && thread != ts ? thread : null,
            Raw = ev.GetRawText(),
        };
    }

    /// <summary>A slash command ("/weather berlin") as a Command envelope; trigger_id keeps retries recognisable.</summary>
    public static Envelope FromSlashCommand(JsonElement payload, string envelopeId)
    {
        string team = Str(payload, "team_id") ?? "default";
        string channel = Str(payload, "channel_id") ?? throw new FormatException("slash command without channel_id.");
        string command = Str(payload, "command") ?? "";
        string args = Str(payload, "text") ?? "";
        string pmid = "cmd:" + (Str(payload, "trigger_id") ?? envelopeId);
        return new Envelope
        {
            Id = $"{Platforms.Slack}:{team}:{channel}:{pmid}",
            Platform = Platforms.Slack,
            PlatformMessageId = pmid,
            Account = team,
            ConversationId = channel,
            UserId = Str(payload, "user_id") ?? "",
            UserDisplayName = Str(payload, "user_name"),
            Type = MessageType.Command,
            Text = args.Length > 0 ? command + " " + args : command,
            Raw = payload.GetRawText(),
        };
    }

    /// <summary>"1700000000.123456" (seconds.microseconds) → ms.</summary>
    public static long TsToMs(string ts) =>
        decimal.TryParse(ts, NumberStyles.Number, CultureInfo.InvariantCulture, out decimal d) ? (long)(d * 1000) : 0;

    private static string? Str(JsonElement e, string name) =>
        e.ValueKind == JsonValueKind.Object && e.TryGetProperty(name, out var p) && p.ValueKind == JsonValueKind.String ? p.GetString() : null;
}
