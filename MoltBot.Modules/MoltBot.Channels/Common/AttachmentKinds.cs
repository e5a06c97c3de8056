using MoltBot.Contracts.Messaging;

namespace MoltBot.Channels.Common;

/// <summary>
/// One mapping for every platform: an attachment's kind from its MIME type, and the envelope type a message with
/// attachments gets (its first attachment decides), so "image/png" means the same on Slack, Discord and iMessage.
/// </summary>
public static class AttachmentKinds
{
    public const string Image = "image";
    public const string Audio = "audio";
    public const string File = "file";

    /// <summary>"image/*" → image, "audio/*" → audio, anything else (or no MIME type) → file.</summary>
    public static string FromMimeType(string? mimeType) =>
        mimeType?.StartsWith("image/", StringComparison.Ordinal) == true ? Image
        : mimeType?.StartsWith("audio/", StringComparison.Ordinal) == true ? Audio
        : File;

    /// <summary>The message type of a message whose first attachment has <paramref name="kind"/>.</summary>
    public static MessageType MessageTypeOf(string kind) => kind switch
    {
        Image => MessageType.Image,
        Audio => MessageType.Audio,
        _ => MessageType.File,
    };
}
