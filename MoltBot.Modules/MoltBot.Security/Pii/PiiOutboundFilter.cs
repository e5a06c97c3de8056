using Microsoft.Extensions.Options;
using MoltBot.Contracts.Messaging;
using MoltBot.Contracts.Pipeline;
using MoltBot.Contracts.Security;

namespace MoltBot.Security.Pii;

/// <summary>
/// Last step before an adapter: restores masked values in the reply for the entity types Security:Pii:Restore
/// allows; the others stay tokens. (A token split across two streamed deltas is not restored; the final text is.)
/// </summary>
public sealed class PiiOutboundFilter(IPiiMasker masker, IOptions<SecurityOptions> options) : IOutboundFilter
{
    public async ValueTask<OutboundMessage> ApplyAsync(OutboundMessage message, CancellationToken cancellationToken)
    {
        if (!options.Value.Pii.Enabled || message.Kind == OutboundKind.Typing) return message;
        string key = PiiInboundFilter.ConversationKey(message.Platform, message.ConversationId);
        return message with
        {
            Text = await masker.UnmaskAsync(key, message.Text, cancellationToken).ConfigureAwait(false),
            CardJson = message.CardJson is null ? null : await masker.UnmaskAsync(key, message.CardJson, cancellationToken).ConfigureAwait(false),
        };
    }
}
