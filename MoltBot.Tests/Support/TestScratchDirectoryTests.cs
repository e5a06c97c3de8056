using System.Diagnostics;

namespace MoltBot.Tests.Support;

public class TestScratchDirectoryTests
{
    [Fact]
    public void Temp_folders_made_by_tests_land_in_the_runs_own_folder()
    {
        Assert.NotNull(TestScratchDirectory.Path);
        var made = Directory.CreateTempSubdirectory("scratch-check");
        try
        {
            Assert.Equal(TestScratchDirectory.Path, Path.GetDirectoryName(made.FullName));
        }
        finally
        {
            made.Delete(recursive: true);
        }
    }

    [Fact]
    public async Task A_folder_left_by_a_run_that_ended_is_removed_and_a_live_runs_is_kept()
    {
        string parent = Directory.CreateTempSubdirectory("scratch-parent").FullName;
        try
        {
            using var ended = Process.Start(new ProcessStartInfo("true") { UseShellExecute = false })!;
            await ended.WaitForExitAsync();
            string endedRun = Path.Combine(parent, TestScratchDirectory.Prefix + ended.Id);
            string liveRun = Path.Combine(parent, TestScratchDirectory.Prefix + Environment.ProcessId);
            string unrelated = Path.Combine(parent, TestScratchDirectory.Prefix + "notapid");
            foreach (var dir in new[] { endedRun, liveRun, unrelated })
            {
                Directory.CreateDirectory(Path.Combine(dir, "data"));
                await File.WriteAllTextAsync(Path.Combine(dir, "data", "f.txt"), "x");
            }

            TestScratchDirectory.RemoveFoldersOfEndedRuns(parent);

            Assert.False(Directory.Exists(endedRun));
            Assert.True(Directory.Exists(liveRun));
            Assert.True(Directory.Exists(unrelated));
        }
        finally
        {
            Directory.Delete(parent, recursive: true);
        }
    }
}
