namespace MoltBot.Contracts.Pipeline;

/// <summary>
/// Receives per-stage timings of every message (metrics, traces). Called on hot paths: implementations must be
/// cheap and must not throw.
/// </summary>
public interface IPipelineObserver
{
    void OnStage(string platform, string conversationId, string stage, TimeSpan elapsed);
}

/// <summary>Stage names used in metrics labels, logs and traces.</summary>
public static class Stages
{
    /// <summary>From enqueue to a shard worker taking the message.</summary>
    public const string QueueWait = "queue_wait";
    public const string Filter = "filter";
    public const string Nlu = "nlu";
    public const string Dialog = "dialog";
    public const string Skill = "skill";
    public const string Generation = "generation";
    /// <summary>The whole handler call.</summary>
    public const string Handle = "handle";
    /// <summary>From the final reply being written to the adapter having sent it.</summary>
    public const string Send = "send";
    /// <summary>From enqueue to the final reply sent.</summary>
    public const string Total = "total";
}
