using System.Text.Json;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using MoltBot.Contracts.Memory;
using MoltBot.Memory.Storage;

namespace MoltBot.Memory;

/// <summary>
/// Dialog state as JSON on the conversation's document, with an LRU cache in front. With Memory:DatabaseWriteBehind
/// a save is cached and queued, and returns without waiting for its commit; a cache miss first waits for the queued
/// writes, so a state evicted before its commit is still read back as saved.
/// </summary>
public sealed class DialogStateStore(MemoryDatabase database, GroupCommitWriter writer, IOptions<MemoryOptions> options, ILogger<DialogStateStore> logger)
    : IDialogStateStore
{
    internal static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web) { TypeInfoResolver = MemoryJsonContext.Default };

    internal LruCache<string, DialogState> Cache { get; } = new(options.Value.DialogStateCacheCapacity);

    public ValueTask<DialogState?> GetAsync(string conversationKey, CancellationToken cancellationToken)
    {
        if (Cache.TryGet(conversationKey, out var cached)) return ValueTask.FromResult<DialogState?>(cached);
        return ReadAsync(conversationKey, cancellationToken);
    }

    private async ValueTask<DialogState?> ReadAsync(string conversationKey, CancellationToken cancellationToken)
    {
        if (options.Value.DatabaseWriteBehind) await writer.WhenWrittenAsync(cancellationToken).ConfigureAwait(false);
        else cancellationToken.ThrowIfCancellationRequested();
        var doc = database.Collection<ConversationDoc>(Collections.Conversations).FindById(conversationKey);
        DialogState? state = doc?.DialogState is { } json ? JsonSerializer.Deserialize<DialogState>(json, Json) : null;
        if (state is not null) Cache.Set(conversationKey, state);
        return state;
    }

    public async ValueTask SaveAsync(DialogState state, CancellationToken cancellationToken)
    {
        string json = JsonSerializer.Serialize(state, Json);
        var committed = await writer.EnqueueAsync((WriteBatch batch) =>
        {
            var doc = batch.Conversation(state.ConversationKey, () => new ConversationDoc
            {
                Id = state.ConversationKey, User = state.UserKey, StartedMs = state.UpdatedMs,
            });
            doc.DialogState = json;
            doc.LastActivityMs = Math.Max(doc.LastActivityMs, state.LastActivityMs);
        }, checkpoint: false, cancellationToken).ConfigureAwait(false);
        if (options.Value.DatabaseWriteBehind)
        {
            // Cached once queued: the next turn of this conversation reads it from here.
            Cache.Set(state.ConversationKey, state);
            WriteBehind.LogIfFailed(committed, logger,
                "Writing the dialog state of {ConversationKey} to LiteDB failed; the cached state stays in use", state.ConversationKey);
            return;
        }
        // Once queued the write will be committed even if the caller stops waiting.
        await committed.WaitAsync(cancellationToken).ConfigureAwait(false);
        Cache.Set(state.ConversationKey, state);
    }
}
