using Microsoft.Extensions.Logging;

namespace MoltBot.Memory.Storage;

/// <summary>
/// Memory:DatabaseWriteBehind: nobody awaits a LiteDB commit queued behind the reply, so its failure is logged here,
/// once, with what the caller can say about what still holds the data (the cache, the event log).
/// </summary>
internal static class WriteBehind
{
    public static void LogIfFailed(Task committed, ILogger logger, string message, string key) =>
        _ = committed.ContinueWith(t => logger.LogError(t.Exception?.GetBaseException(), message, key),
            CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted, TaskScheduler.Default);

    /// <summary>As above, with the key built only if the write failed.</summary>
    public static void LogIfFailed(Task committed, ILogger logger, string message, Func<string> key) =>
        _ = committed.ContinueWith(t => logger.LogError(t.Exception?.GetBaseException(), message, key()),
            CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted, TaskScheduler.Default);
}
