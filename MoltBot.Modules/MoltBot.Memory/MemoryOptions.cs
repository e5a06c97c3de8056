using System.ComponentModel.DataAnnotations;

namespace MoltBot.Memory;

/// <summary>Configuration section "Memory": storage file, tier sizes, group commit, retention and the HNSW index.</summary>
public sealed class MemoryOptions : IValidatableObject
{
    public const string Section = "Memory";

    /// <summary>LiteDB file name under data/memory/ (the HNSW snapshot is written next to it as &lt;file&gt;.hnsw).</summary>
    [Required(AllowEmptyStrings = false, ErrorMessage = "Memory:DatabaseFile must be a file name (default \"moltbot.db\").")]
    public string DatabaseFile { get; set; } = "moltbot.db";

    [Range(1, 20, ErrorMessage = "Memory:ShortTermTurns must be between 1 and 20 (turns kept per conversation).")]
    public int ShortTermTurns { get; set; } = 5;

    [Range(1, 10_000_000, ErrorMessage = "Memory:ShortTermConversations must be between 1 and 10000000 (conversations kept in memory).")]
    public int ShortTermConversations { get; set; } = 10_000;

    [Range(1, 10_000_000, ErrorMessage = "Memory:ProfileCacheCapacity must be between 1 and 10000000 (profiles).")]
    public int ProfileCacheCapacity { get; set; } = 1_000;

    [Range(1, 10_000_000, ErrorMessage = "Memory:DialogStateCacheCapacity must be between 1 and 10000000 (conversations).")]
    public int DialogStateCacheCapacity { get; set; } = 10_000;

    /// <summary>Bound of the group-commit write queue; a full queue makes writers wait.</summary>
    [Range(1, 10_000_000, ErrorMessage = "Memory:WriteQueueCapacity must be between 1 and 10000000 (writes).")]
    public int WriteQueueCapacity { get; set; } = 16_384;

    /// <summary>Most writes committed in one LiteDB transaction.</summary>
    [Range(1, 1_000_000, ErrorMessage = "Memory:MaxBatchSize must be between 1 and 1000000 (writes per commit).")]
    public int MaxBatchSize { get; set; } = 4_096;

    /// <summary>
    /// How often LiteDB's log is fsynced (ms). Every message and dialog event is fsynced in the event log before a
    /// reply goes out; LiteDB (conversations, message table, dialog state, profiles, facts, vectors) is committed
    /// behind the reply (Memory:DatabaseWriteBehind) or before it, and fsynced at this interval; messages a crash or
    /// power loss took from it are restored from the event log at start. 0: LiteDB fsyncs every commit itself (slower: ≈ 60 % of a turn's CPU on the skill path).
    /// </summary>
    [Range(0, 10_000, ErrorMessage = "Memory:DatabaseSyncMilliseconds must be between 0 (fsync every LiteDB commit) and 10000.")]
    public int DatabaseSyncMilliseconds { get; set; } = 100;

    /// <summary>
    /// LiteDB's checkpoint size (its CHECKPOINT pragma, in 8 KB pages): once its log holds this many pages they are copied
    /// into the data file and LiteDB's page cache is emptied for reuse. That cache only grows, in segments of 12, 50, 100,
    /// 500 and then 1,000 pages, and it must hold every log page until the checkpoint: at LiteDB's own default of 1,000
    /// the cache reaches its first 8 MB segment (13 MB of large-object heap, never given back) as soon as many
    /// conversations write; at 200 it stays at ≈ 5 MB (docs/performance.md, "rss7"). Smaller values checkpoint more often.
    /// </summary>
    [Range(10, 100_000, ErrorMessage = "Memory:DatabaseCheckpointPages must be between 10 and 100000 (LiteDB log pages between checkpoints).")]
    public int DatabaseCheckpointPages { get; set; } = 200;

    /// <summary>
    /// true (default): a turn waits only for the event log's fsync (every message and dialog event); its LiteDB
    /// writes (message table, conversation counters, recall vector, dialog state, profile) are queued in order and
    /// committed behind the reply. Reads see their own writes: caches answer first, and a read that goes to LiteDB
    /// first waits for the writes queued before it. false: a turn also waits for its LiteDB commit.
    /// </summary>
    public bool DatabaseWriteBehind { get; set; } = true;

    /// <summary>
    /// With write-behind, how long (ms) the LiteDB writer lets more writes join a group that is not full before it
    /// commits: nobody waits for these commits on a reply's path, and every LiteDB transaction copies, writes and later
    /// checkpoints each page it touches, so fewer, larger groups cost less per message. A read that must see queued
    /// writes (a cache miss, history, export) waits at most this much longer. 0 commits at once; ignored without
    /// write-behind (turns wait for their commit then).
    /// </summary>
    [Range(0, 100, ErrorMessage = "Memory:WriteBehindLingerMilliseconds must be between 0 (commit at once) and 100.")]
    public int WriteBehindLingerMilliseconds { get; set; } = 5;

    /// <summary>
    /// How long (ms) the LiteDB writer may keep a conversation's updated document (message counter, last activity,
    /// participants, dialog state) in memory before writing it: under load a conversation gets one document update per
    /// this interval instead of one per group commit (each update rewrites the document and re-indexes it). Every read
    /// that goes to LiteDB, every raw write, the replay mark and a stop write them out first; an idle writer writes them
    /// when the interval is up. After a process kill or power loss the start-up replay recounts the conversations of the
    /// replayed window from their stored messages; a dialog state saved within the interval is lost then (it was a few
    /// ms before). 0 writes them with every group commit, as does Memory:DatabaseWriteBehind false.
    /// </summary>
    [Range(0, 10_000, ErrorMessage = "Memory:ConversationFlushMilliseconds must be between 0 (every commit) and 10000.")]
    public int ConversationFlushMilliseconds { get; set; } = 1_000;

    /// <summary>Events older than this are deleted (checked at start and hourly); 0 keeps them forever.</summary>
    [Range(0, 36_500, ErrorMessage = "Memory:EventRetentionDays must be between 0 (keep forever) and 36500.")]
    public int EventRetentionDays { get; set; } = 90;

    /// <summary>The event log starts a new segment file once the current one reaches this size.</summary>
    [Range(1, 1_024, ErrorMessage = "Memory:EventSegmentMegabytes must be between 1 and 1024 (size of one event-log segment file).")]
    public int EventSegmentMegabytes { get; set; } = 64;

    [Range(2, 128, ErrorMessage = "Memory:HnswM must be between 2 and 128 (links per node).")]
    public int HnswM { get; set; } = 16;

    [Range(8, 4_096, ErrorMessage = "Memory:HnswEfConstruction must be between 8 and 4096.")]
    public int HnswEfConstruction { get; set; } = 200;

    [Range(8, 4_096, ErrorMessage = "Memory:HnswEfSearch must be between 8 and 4096.")]
    public int HnswEfSearch { get; set; } = 64;

    /// <summary>
    /// Queries walk the HNSW graph on 4-bit codes and re-rank with exact floats: for large indexes (≈ 100,000+
    /// vectors) of spread-out vectors; off by default because clustered sentence embeddings lose recall at small ef.
    /// </summary>
    public bool HnswQuantizedWalk { get; set; }

    /// <summary>How often a changed vector index is snapshotted to disk (also at shutdown and after a user deletion).</summary>
    [Range(1, 86_400, ErrorMessage = "Memory:VectorSnapshotSeconds must be between 1 and 86400.")]
    public int VectorSnapshotSeconds { get; set; } = 300;

    /// <summary>
    /// How often the event-log replay mark moves up (LiteDB is known to hold every message before it); after a crash
    /// the start-up replay reads back at most about this much traffic.
    /// </summary>
    [Range(1, 3_600, ErrorMessage = "Memory:ReplayMarkSeconds must be between 1 and 3600.")]
    public int ReplayMarkSeconds { get; set; } = 10;

    /// <summary>Past user messages are indexed for vector recall too (not only explicit facts).</summary>
    public bool RecallMessages { get; set; } = true;

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (!string.IsNullOrEmpty(DatabaseFile) && (DatabaseFile.IndexOfAny(['/', '\\']) >= 0 || DatabaseFile is "." or ".."))
        {
            yield return new ValidationResult($"Memory:DatabaseFile '{DatabaseFile}' must be a plain file name (it lives under data/memory/).", [nameof(DatabaseFile)]);
        }
    }
}
