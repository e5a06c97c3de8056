using MoltBot.Channels.Common;
using System.Text.Json;
using MoltBot.Contracts.Messaging;

namespace MoltBot.Channels.IMessage;

/// <summary>Turns a BlueBubbles webhook event ({"type","data"}) into an envelope; null for events that are not user messages.</summary>
public static class BlueBubblesNormalizer
{
    private static readonly string[] Tapbacks = ["love", "like", "dislike", "laugh", "emphasize", "question"];

    public static Envelope? Normalize(JsonElement root, string account = "default")
    {
        string type = Str(root, "type") ?? throw new FormatException("BlueBubbles event without 'type'.");
        if (type is not ("new-message" or "updated-message")) return null;
        var d = root.TryGetProperty("data", out var data) && data.ValueKind == JsonValueKind.Object
            ? data : throw new FormatException("BlueBubbles event without a 'data' object.");
        if (d.TryGetProperty("isFromMe", out var fromMe) && fromMe.ValueKind == JsonValueKind.True) return null; // our own sends echo back
        string guid = Str(d, "guid") ?? throw new FormatException("BlueBubbles message without 'guid'.");
        string user = d.TryGetProperty("handle", out var h) && h.ValueKind == JsonValueKind.Object ? Str(h, "address") ?? "" : "";
        if (user.Length == 0) throw new FormatException("BlueBubbles message without 'handle.address'.");
        string chat = d.TryGetProperty("chats", out var chats) && chats.ValueKind == JsonValueKind.Array && chats.GetArrayLength() > 0
            ? Str(chats[0], "guid") ?? "" : "";
        if (chat.Length == 0) chat = "iMessage;-;" + user; // a 1:1 chat guid when the event omits chats
        long ts = Long(d, "dateCreated");
        var kind = MessageType.Text;
        string pmid = guid;
        string text = Str(d, "text") ?? "";
        string? replyTo = Str(d, "threadOriginatorGuid");

        var attachments = new List<Attachment>();
        if (d.TryGetProperty("attachments", out var atts) && atts.ValueKind == JsonValueKind.Array)
        {
            foreach (var a in atts.EnumerateArray())
            {
                string? mime = Str(a, "mimeType");
                attachments.Add(new Attachment
                {
                    Kind = AttachmentKinds.FromMimeType(mime),
                    Id = Str(a, "guid"),
                    MimeType = mime,
                    FileName = Str(a, "transferName"),
                    SizeBytes = a.TryGetProperty("totalBytes", out var tb) && tb.TryGetInt64(out long n) ? n : null,
                });
            }
            // iMessage puts U+FFFC (object replacement) in the text where each attachment sits.
            text = text.Replace("\uFFFC", "").Trim();
            if (attachments.Count > 0)
            {
                kind = AttachmentKinds.MessageTypeOf(attachments[0].Kind);
            }
        }

        string? assocType = d.TryGetProperty("associatedMessageType", out var at) ? at.ValueKind switch
        {
            JsonValueKind.String => at.GetString(),
            JsonValueKind.Number => TapbackName(at.GetInt32()),
            _ => null,
        } : null;
        if (assocType is not null && Str(d, "associatedMessageGuid") is { } target)
        {
            kind = MessageType.Reaction;
            text = assocType;
            // "p:0/GUID" addresses part 0 of the message GUID.
            int slash = target.IndexOf('/');
            replyTo = slash >= 0 ? target[(slash + 1)..] : target;
        }
        else if (type == "updated-message")
        {
            long edited = Long(d, "dateEdited");
            if (edited == 0) return null; // delivery/read receipts also arrive as updated-message
            kind = MessageType.Edit;
            ts = edited;
            pmid = guid + ":edit:" + edited;
            replyTo = guid;
        }

        return new Envelope
        {
            Id = $"{Platforms.IMessage}:{account}:{chat}:{pmid}",
            Platform = Platforms.IMessage,
            PlatformMessageId = pmid,
            Account = account,
            ConversationId = chat,
            UserId = user,
            TimestampMs = ts,
            Type = kind,
            Text = text,
            Attachments = attachments,
            ReplyToId = replyTo,
            Raw = root.GetRawText(),
        };
    }

    /// <summary>Numeric tapback codes: 2000..2005 add, 3000..3005 remove.</summary>
    private static string? TapbackName(int code) => code switch
    {
        >= 2000 and <= 2005 => Tapbacks[code - 2000],
        >= 3000 and <= 3005 => "-" + Tapbacks[code - 3000],
        _ => null,
    };

    private static long Long(JsonElement e, string name) =>
        e.TryGetProperty(name, out var p) && p.ValueKind == JsonValueKind.Number && p.TryGetInt64(out long v) ? v : 0;

    private static string? Str(JsonElement e, string name) =>
        e.ValueKind == JsonValueKind.Object && e.TryGetProperty(name, out var p) && p.ValueKind == JsonValueKind.String ? p.GetString() : null;
}
