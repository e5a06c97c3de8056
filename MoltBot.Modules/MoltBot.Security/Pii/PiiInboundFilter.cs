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
        var attachments = envelope.Attachments;
        if (attachments.Any(a => a.FileName is not null))
        {
            var masked = new List<Attachment>(attachments.Count);
            foreach (var a in attachments)
                masked.Add(a.FileName is null ? a : a with { FileName = await masker.MaskAsync(key, a.FileName, cancellationToken).ConfigureAwait(false) });
            attachments = masked;
        }
        return envelope with
        {
            Text = await masker.MaskAsync(key, envelope.Text, cancellationToken).ConfigureAwait(false),
            Raw = envelope.Raw is null ? null : await masker.MaskAsync(key, envelope.Raw, cancellationToken).ConfigureAwait(false),
            UserDisplayName = envelope.UserDisplayName is null ? null : await masker.MaskAsync(key, envelope.UserDisplayName, cancellationToken).ConfigureAwait(false),
            Attachments = attachments,
        };
    }
}
