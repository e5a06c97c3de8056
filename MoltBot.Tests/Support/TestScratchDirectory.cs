using System.Diagnostics;
using System.Runtime.CompilerServices;

namespace MoltBot.Tests.Support;

/// <summary>
/// Gives this test run its own temp folder (<c>$TMPDIR/moltbot-tests-&lt;pid&gt;</c>) and deletes it when the run
/// ends, so the hundreds of temp folders the tests make (stores, model files, story files, child processes' data)
/// never pile up in /tmp — also those of a test that failed half-way or a host whose start threw. Runs before
/// any test code (module initializer); child processes inherit TMPDIR. A run that was killed leaves its folder,
/// and the next run removes it once that process id is gone.
/// </summary>
internal static class TestScratchDirectory
{
    public const string Prefix = "moltbot-tests-";

    /// <summary>The run's folder, or null when the module initializer has not run (it always has, in a test).</summary>
    public static string? Path { get; private set; }

    [ModuleInitializer]
    internal static void Initialize()
    {
        string parent = System.IO.Path.GetTempPath();
        RemoveFoldersOfEndedRuns(parent);
        string path = System.IO.Path.Combine(parent, Prefix + Environment.ProcessId);
        Directory.CreateDirectory(path);
        // .NET reads TMPDIR on every Path.GetTempPath() call on Unix, so every later temp folder lands inside.
        Environment.SetEnvironmentVariable("TMPDIR", path);
        Path = path;
        AppDomain.CurrentDomain.ProcessExit += (_, _) => TryDelete(path);
    }

    internal static void RemoveFoldersOfEndedRuns(string parent)
    {
        foreach (string dir in Directory.EnumerateDirectories(parent, Prefix + "*"))
        {
            if (!int.TryParse(System.IO.Path.GetFileName(dir)[Prefix.Length..], out int pid)) continue;
            if (pid == Environment.ProcessId || IsRunning(pid)) continue;
            TryDelete(dir);
        }
    }

    private static bool IsRunning(int pid)
    {
        try
        {
            using var process = Process.GetProcessById(pid);
            return !process.HasExited;
        }
        catch (ArgumentException)
        {
            return false; // no such process
        }
        catch (InvalidOperationException)
        {
            return false;
        }
    }

    private static void TryDelete(string dir)
    {
        // Best effort: a file still held by a leaked handle must not turn a green run red at exit.
        try { Directory.Delete(dir, recursive: true); }
        catch (IOException) { }
        catch (UnauthorizedAccessException) { }
    }
}
