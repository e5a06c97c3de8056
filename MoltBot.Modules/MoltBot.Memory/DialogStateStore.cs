using System.Text.Json;
using Microsoft.Extensions.Options;
using MoltBot.Contracts.Memory;
using MoltBot.Memory.Storage;

namespace MoltBot.Memory;

/// <summary>Dialog state as JSON on the conversation's document, with an LRU cache in front.</summary>
public sealed class DialogStateStore(MemoryDatabase database, GroupCommitWriter writer, IOptions<MemoryOptions> options) : IDialogStateStore
{
    internal static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    internal LruCache<string, DialogState> Cache { get; } = new(options.Value.DialogStateCacheCapacity);

    public ValueTask<DialogState?> GetAsync(string conversationKey, CancellationToken cancellationToken)
    {
        if (Cache.TryGet(conversationKey, out var cached)) return ValueTask.FromResult<DialogState?>(cached);
        cancellationToken.ThrowIfCancellationRequested();
        var doc = database.Collection<ConversationDoc>(Collections.Conversations).FindById(conversationKey);
        DialogState? state = doc?.DialogState is { } json ? JsonSerializer.Deserialize<DialogState>(json, Json) : null;
        if (state is not null) Cache.Set(conversationKey, state);
        return ValueTask.FromResult(state);
    }

    public async ValueTask SaveAsync(DialogState state, CancellationToken cancellationToken)
    {
        string json = JsonSerializer.Serialize(state, Json);
        await writer.WriteAsync((WriteBatch batch) =>
        {
            var doc = batch.Conversation(state.ConversationKey, () => new ConversationDoc
            {
                Id = state.ConversationKey, User = state.UserKey, StartedMs = state.UpdatedMs,
            });
            doc.DialogState = json;
            doc.LastActivityMs = Math.Max(doc.LastActivityMs, state.LastActivityMs);
        }, cancellationToken).ConfigureAwait(false);
        Cache.Set(state.ConversationKey, state);
    }
}
