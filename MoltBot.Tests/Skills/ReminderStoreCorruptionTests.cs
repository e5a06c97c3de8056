using MoltBot.Contracts.Configuration;

namespace MoltBot.Tests.Skills;

/// <summary>
/// A damaged reminder database stops start-up with one line naming the file, whatever LiteDB throws for it: random
/// bytes in the header page ended in an ArgumentOutOfRangeException (a DateTime read), which crashed start-up with a
/// stack trace (exit code 1, or a segmentation fault while the process went down) instead of exit code 2. Opened at
/// start here (the harness's OpenDelayMs 0); ReminderDeferredOpenTests covers the deferred open.
/// </summary>
public class ReminderStoreCorruptionTests
{
    public static TheoryData<string> Contents => ["random", "x", "zeros-then-random"];

    private static byte[] Garbage(string kind)
    {
        var bytes = new byte[16_384];
        switch (kind)
        {
            case "random": new Random(7).NextBytes(bytes); break;
            case "x": Array.Fill(bytes, (byte)'x'); break;
            default: new Random(11).NextBytes(bytes.AsSpan(8_192)); break;
        }
        return bytes;
    }

    [Theory]
    [MemberData(nameof(Contents))]
    public async Task A_damaged_reminder_database_stops_start_up_with_one_line_naming_it_and_is_left_as_it_was(string kind)
    {
        string root = SkillsHarness.NewRoot();
        string file = Path.Combine(root, "data", "skills", "reminders.db");
        Directory.CreateDirectory(Path.GetDirectoryName(file)!);
        var garbage = Garbage(kind);
        await File.WriteAllBytesAsync(file, garbage);
        try
        {
            var ex = await Assert.ThrowsAsync<StartupException>(() => SkillsHarness.StartAsync(root));
            Assert.StartsWith($"Reminder database {file} cannot be opened (", ex.Message);
            Assert.EndsWith("restore it from a backup or move it away to start with no reminders.", ex.Message);
            Assert.DoesNotContain('\n', ex.Message);
            Assert.Equal(garbage, await File.ReadAllBytesAsync(file)); // nothing overwritten: the user can restore or move it
        }
        finally
        {
            SkillsHarness.DeleteRoot(root);
        }
    }
}
