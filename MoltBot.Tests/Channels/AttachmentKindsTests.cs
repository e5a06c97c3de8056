using MoltBot.Channels.Common;
using MoltBot.Contracts.Messaging;

namespace MoltBot.Tests.Channels;

public sealed class AttachmentKindsTests
{
    [Theory]
    [InlineData("image/png", "image")]
    [InlineData("image/jpeg", "image")]
    [InlineData("audio/ogg", "audio")]
    [InlineData("application/pdf", "file")]
    [InlineData("video/mp4", "file")]
    [InlineData("Image/PNG", "file")] // MIME types arrive lower-case from every platform; anything else is a plain file
    [InlineData("", "file")]
    [InlineData(null, "file")]
    public void Kind_follows_the_MIME_type(string? mime, string expected) =>
        Assert.Equal(expected, AttachmentKinds.FromMimeType(mime));

    [Theory]
    [InlineData("image", MessageType.Image)]
    [InlineData("audio", MessageType.Audio)]
    [InlineData("file", MessageType.File)]
    [InlineData("voice", MessageType.File)]
    public void Message_type_follows_the_first_attachment(string kind, MessageType expected) =>
        Assert.Equal(expected, AttachmentKinds.MessageTypeOf(kind));
}
