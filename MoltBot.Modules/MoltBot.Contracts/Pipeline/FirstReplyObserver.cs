namespace MoltBot.Contracts.Pipeline;

/// <summary>
/// Calls <see cref="OnFirstReply"/> once, when the process's first reply has been sent (the pipeline reports every sent
/// reply as the <see cref="Stages.Total"/> stage): start-up work that can wait (secondary model loads, the reminder
/// database) leaves the first turn the CPU. After the first reply this costs one volatile read per reply.
/// </summary>
public abstract class FirstReplyObserver : IPipelineObserver
{
    private int _seen;

    public void OnStage(string platform, string conversationId, string stage, TimeSpan elapsed)
    {
        if (stage != Stages.Total || Volatile.Read(ref _seen) == 1) return;
        if (Interlocked.Exchange(ref _seen, 1) == 0) OnFirstReply();
    }

    /// <summary>Runs on the thread that reported the first reply: keep it to a signal (no blocking work).</summary>
    protected abstract void OnFirstReply();
}
