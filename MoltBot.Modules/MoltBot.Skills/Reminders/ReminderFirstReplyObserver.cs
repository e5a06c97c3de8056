using MoltBot.Contracts.Pipeline;

namespace MoltBot.Skills.Reminders;

/// <summary>
/// Opens the reminder database once the process's first reply has been sent (the pipeline reports every sent reply as
/// the <see cref="Stages.Total"/> stage): until then the first turn has the CPU. One volatile read per reply after that.
/// </summary>
internal sealed class ReminderFirstReplyObserver(ReminderStoreOpening opening) : IPipelineObserver
{
    private int _seen;

    public void OnStage(string platform, string conversationId, string stage, TimeSpan elapsed)
    {
        if (stage != Stages.Total || Volatile.Read(ref _seen) == 1) return;
        if (Interlocked.Exchange(ref _seen, 1) == 0) opening.OpenSoon();
    }
}
