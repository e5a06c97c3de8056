using MoltBot.Contracts.Pipeline;

namespace MoltBot.Skills.Reminders;

/// <summary>Opens the reminder database once the process's first reply has been sent: until then the first turn has the CPU.</summary>
internal sealed class ReminderFirstReplyObserver(ReminderStoreOpening opening) : FirstReplyObserver
{
    protected override void OnFirstReply() => opening.OpenSoon();
}
