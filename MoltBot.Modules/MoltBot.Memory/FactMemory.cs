using LiteDB;
using MoltBot.Contracts.Inference;
using MoltBot.Contracts.Memory;
using MoltBot.Memory.Storage;

namespace MoltBot.Memory;

/// <summary>Facts a user asked to remember, stored in "facts" and recalled by meaning through the HNSW index (facts and past messages).</summary>
public sealed class FactMemory(VectorMemory vectors, GroupCommitWriter writer, ISentenceEmbedder embedder, TimeProvider clock) : IFactMemory
{
    public async Task<string> RememberAsync(string userKey, string fact, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(fact);
        var embedding = await embedder.EmbedAsync(fact, cancellationToken).ConfigureAwait(false);
        string id = Guid.NewGuid().ToString("N");
        long ts = clock.GetUtcNow().ToUnixTimeMilliseconds();
        await vectors.AddAsync(userKey, VectorMemory.FactKind, id, fact, ts, embedding,
            (db, vectorId) => db.GetCollection<FactDoc>(Collections.Facts).Insert(new FactDoc { Id = id, User = userKey, Text = fact, Ts = ts, VectorId = vectorId }),
            cancellationToken).ConfigureAwait(false);
        return id;
    }

    public async Task<IReadOnlyList<RecalledFact>> RecallAsync(string userKey, string query, int k, CancellationToken cancellationToken)
    {
        if (k <= 0 || string.IsNullOrWhiteSpace(query)) return [];
        var embedding = await embedder.EmbedAsync(query, cancellationToken).ConfigureAwait(false);
        // Messages recorded write-behind are indexed once LiteDB has them: wait for those queued so far.
        await writer.WhenWrittenAsync(cancellationToken).ConfigureAwait(false);
        return vectors.Search(userKey, embedding, k).Select(h => new RecalledFact(h.Doc.RefId, h.Doc.Text, h.Similarity, h.Doc.Ts)).ToList();
    }
}
