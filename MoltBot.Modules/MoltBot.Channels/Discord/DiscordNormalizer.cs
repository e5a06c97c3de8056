using System.Globalization;
using System.Text.Json;
using MoltBot.Channels.Common;
using MoltBot.Contracts.Messaging;

namespace MoltBot.Channels.Discord;

/// <summary>Turns Gateway dispatch events (MESSAGE_CREATE, MESSAGE_UPDATE, MESSAGE_REACTION_ADD) into envelopes.</summary>
public static class DiscordNormalizer
{
    /// <param name="eventName">The dispatch "t".</param>
    /// <param name="d">The dispatch "d".</param>
    /// <param name="selfId">The bot's own user id (from READY): its own messages are not answered.</param>
    public static Envelope? Normalize(string eventName, JsonElement d, string? selfId)
    {
        switch (eventName)
        {
            case "MESSAGE_CREATE" or "MESSAGE_UPDATE":
                if (!d.TryGetProperty("author", out var author)) return null; // updates for embeds only carry no author
                if (author.TryGetProperty("bot", out var bot) && bot.ValueKind == JsonValueKind.True) return null;
                string userId = Str(author, "id") ?? throw new FormatException("Discord message author without id.");
                if (userId == selfId) return null;
                return Message(eventName == "MESSAGE_UPDATE", d, author, userId);
            case "MESSAGE_REACTION_ADD":
                if (Str(d, "user_id") is not { } reactor || reactor == selfId) return null;
                string channel = Str(d, "channel_id") ?? throw new FormatException("reaction without channel_id.");
                string target = Str(d, "message_id") ?? "";
                string emoji = d.TryGetProperty("emoji", out var e) ? Str(e, "name") ?? "" : "";
                string account = Str(d, "guild_id") ?? "dm";
                string pmid = $"reaction:{target}:{reactor}:{emoji}";
                return new Envelope
                {
                    Id = $"{Platforms.Discord}:{account}:{channel}:{pmid}",
                    Platform = Platforms.Discord,
                    PlatformMessageId = pmid,
                    Account = account,
                    ConversationId = channel,
                    UserId = reactor,
                    Type = MessageType.Reaction,
                    Text = emoji,
                    ReplyToId = target,
                    Raw = d.GetRawText(),
                };
            default:
                return null;
        }
    }

    private static Envelope Message(bool edit, JsonElement d, JsonElement author, string userId)
    {
        string id = Str(d, "id") ?? throw new FormatException("Discord message without id.");
        string channel = Str(d, "channel_id") ?? throw new FormatException("Discord message without channel_id.");
        string account = Str(d, "guild_id") ?? "dm";
        string text = Markup.FromDiscord(Str(d, "content") ?? "");
        var attachments = new List<Attachment>();
        if (d.TryGetProperty("attachments", out var atts) && atts.ValueKind == JsonValueKind.Array)
        {
            foreach (var a in atts.EnumerateArray())
            {
                string? mime = Str(a, "content_type");
                attachments.Add(new Attachment
                {
                    Kind = AttachmentKinds.FromMimeType(mime),
                    Id = Str(a, "id"),
                    Url = Str(a, "url"),
                    MimeType = mime,
                    FileName = Str(a, "filename"),
                    SizeBytes = a.TryGetProperty("size", out var s) && s.TryGetInt64(out long n) ? n : null,
                });
            }
        }
        var kind = edit ? MessageType.Edit
            : attachments.Count > 0 ? AttachmentKinds.MessageTypeOf(attachments[0].Kind)
            : text.StartsWith('/') || text.StartsWith('!') ? MessageType.Command
            : MessageType.Text;
        string? edited = Str(d, "edited_timestamp");
        string pmid = edit ? id + ":edit:" + edited : id;
        string? replyTo = edit ? id
            : d.TryGetProperty("message_reference", out var mr) ? Str(mr, "message_id") : null;
        string? time = edit ? edited ?? Str(d, "timestamp") : Str(d, "timestamp");
        return new Envelope
        {
            Id = $"{Platforms.Discord}:{account}:{channel}:{pmid}",
            Platform = Platforms.Discord,
            PlatformMessageId = pmid,
            Account = account,
            ConversationId = channel,
            UserId = userId,
            UserDisplayName = Str(author, "global_name") ?? Str(author, "username"),
            TimestampMs = DateTimeOffset.TryParse(time, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var ts) ? ts.ToUnixTimeMilliseconds() : 0,
            Type = kind,
            Text = text,
            Attachments = attachments,
            ReplyToId = replyTo,
            Raw = d.GetRawText(),
        };
    }

    private static string? Str(JsonElement e, string name) =>
        e.ValueKind == JsonValueKind.Object && e.TryGetProperty(name, out var p) && p.ValueKind == JsonValueKind.String ? p.GetString() : null;
}
