using System.Runtime.InteropServices;

namespace MoltBot.Inference.Engines;

/// <summary>
/// Runs work on a dedicated thread whose Linux scheduling priority is lowered (nice +10), so it uses the CPU that the
/// rest of the process leaves idle. At start-up the models no request is waiting for load this way: on a 2-core box
/// they would otherwise take a core from the host's own start and from the first replies. Only this thread is
/// lowered (Linux nice values are per thread); it is never reused, and the OpenMP workers libtorch starts for it belong
/// to it alone and end with it.
/// </summary>
internal static partial class LowPriorityThread
{
    private const int PrioProcess = 0; // PRIO_PROCESS: with a thread id, applies to that thread only
    private const int Nice = 10;

    public static Task<T> Run<T>(string name, Func<T> work)
    {
        var result = new TaskCompletionSource<T>(TaskCreationOptions.RunContinuationsAsynchronously);
        var thread = new Thread(() =>
        {
            Lower();
            try
            {
                result.SetResult(work());
            }
            catch (Exception ex)
            {
                result.SetException(ex);
            }
        })
        {
            IsBackground = true,
            Name = name,
        };
        thread.Start();
        return result.Task;
    }

    /// <summary>The calling thread's nice value (Linux); null elsewhere.</summary>
    public static int? CurrentNice()
    {
        if (!OperatingSystem.IsLinux()) return null;
        try
        {
            Marshal.SetLastPInvokeError(0);
            int nice = getpriority(PrioProcess, gettid());
            return nice == -1 && Marshal.GetLastPInvokeError() != 0 ? null : nice;
        }
        catch (Exception ex) when (ex is EntryPointNotFoundException or DllNotFoundException)
        {
            return null;
        }
    }

    private static void Lower()
    {
        if (!OperatingSystem.IsLinux()) return;
        try
        {
            _ = setpriority(PrioProcess, gettid(), Nice); // best effort: on failure the work runs at normal priority
        }
        catch (Exception ex) when (ex is EntryPointNotFoundException or DllNotFoundException)
        {
        }
    }

    [LibraryImport("libc", EntryPoint = "gettid")]
    private static partial int gettid();

    [LibraryImport("libc", EntryPoint = "setpriority", SetLastError = true)]
    private static partial int setpriority(int which, int who, int priority);

    [LibraryImport("libc", EntryPoint = "getpriority", SetLastError = true)]
    private static partial int getpriority(int which, int who);
}
