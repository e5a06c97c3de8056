using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using MoltBot.Contracts.Admin;

namespace MoltBot.Gateway;

/// <summary>
/// Reads a conversation's last messages: the gateway's own in-memory history first; when it holds nothing (e.g.
/// after a restart) and the memory module provides <see cref="IConversationReader"/>, the stored messages.
/// </summary>
public sealed class HistoryReader(ConversationHistory history, IServiceProvider services, ILogger<HistoryReader> logger)
{
    public async Task<IReadOnlyList<HistoryEntry>> LastAsync(string platform, string conversationId, int take, CancellationToken cancellationToken)
    {
        var own = history.Last(platform, conversationId, take);
        if (own.Count > 0) return own;
        var reader = services.GetService<IConversationReader>();
        if (reader is null) return own;
        try
        {
            var stored = await reader.MessagesAsync(ConversationHistory.Key(platform, conversationId), take, cancellationToken).ConfigureAwait(false);
            return stored.OrderBy(m => m.TimestampMs)
                .Select(m => new HistoryEntry(m.Id, m.Direction, m.UserKey, m.Text, m.TimestampMs))
                .ToArray();
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            logger.LogWarning(ex, "Stored history of {ConversationId} could not be read; answering from the gateway's memory", conversationId);
            return own;
        }
    }
}
