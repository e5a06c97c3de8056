using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using MoltBot.Contracts.Messaging;
using MoltBot.Security;
using MoltBot.Security.Pii;

namespace MoltBot.Tests.Security;

public sealed class PiiFilterTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("moltbot-filter").FullName;

    [Fact]
    public async Task Inbound_masks_text_display_name_file_names_and_escaped_or_numeric_json_values_then_outbound_restores_by_policy()
    {
        var options = Options.Create(new SecurityOptions());
        var masker = new PiiMasker(new PiiVaultStore(new byte[32], _dir, 10, NullLogger<PiiVaultStore>.Instance), options);
        var inbound = new PiiInboundFilter(masker, options);
        var envelope = new Envelope
        {
            Id = "1", Platform = "telegram", ConversationId = "c", UserId = "u",
            Text = "call +44 20 7946 0958 or mail me@example.com, card 4111 1111 1111 1111",
            UserDisplayName = "Me (me@example.com)",
            // JSON escapes hide "+" and "@" from a plain text scan; the phone also arrives as a JSON number.
            Raw = """{"text":"call \u002B44 20 7946 0958","from":{"mail":"me\u0040example.com","phone":13812345678},"ids":[42]}""",
            Attachments = [new Attachment { Kind = "file", FileName = "cv me@example.com 2024.pdf" }],
        };
        var masked = (await inbound.ApplyAsync(envelope, default))!;
        Assert.Equal("call ⟦PHONE_1⟧ or mail ⟦EMAIL_1⟧, card ⟦CARD_1⟧", masked.Text);
        Assert.Equal("Me (⟦EMAIL_1⟧)", masked.UserDisplayName);
        Assert.Equal("""{"text":"call ⟦PHONE_1⟧","from":{"mail":"⟦EMAIL_1⟧","phone":"⟦PHONE_2⟧"},"ids":[42]}""", masked.Raw);
        Assert.Equal("cv ⟦EMAIL_1⟧ 2024.pdf", masked.Attachments[0].FileName);

        var outbound = new PiiOutboundFilter(masker, options);
        var reply = await outbound.ApplyAsync(new OutboundMessage
        {
            Kind = OutboundKind.Final, Platform = "telegram", ConversationId = "c", UserId = "u", InReplyTo = "1",
            Text = "Noted ⟦EMAIL_1⟧ and ⟦PHONE_1⟧; card ⟦CARD_1⟧ stays hidden",
        }, default);
        Assert.Equal("Noted me@example.com and +44 20 7946 0958; card ⟦CARD_1⟧ stays hidden", reply.Text);

        // Another conversation's tokens are not this conversation's values.
        var other = await outbound.ApplyAsync(new OutboundMessage
        {
            Kind = OutboundKind.Final, Platform = "telegram", ConversationId = "other", UserId = "u", InReplyTo = "2", Text = "⟦EMAIL_1⟧",
        }, default);
        Assert.Equal("⟦EMAIL_1⟧", other.Text);
    }

    public void Dispose()
    {
        try { Directory.Delete(_dir, true); } catch (IOException) { }
    }
}
