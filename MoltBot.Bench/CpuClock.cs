using System.Runtime.InteropServices;

namespace MoltBot.Bench;

/// <summary>
/// CPU time consumed by this process (all threads: the worker, libtorch's OpenMP threads, the thread pool), in µs.
/// On a shared box wall-clock throughput depends on what the other tenants run; CPU time per utterance does much less.
/// </summary>
internal static class CpuClock
{
    private const int ClockProcessCpuTimeId = 2;

    [StructLayout(LayoutKind.Sequential)]
    private struct TimeSpec
    {
        public long Seconds;
        public long Nanoseconds;
    }

    [DllImport("libc", EntryPoint = "clock_gettime")]
    private static extern int ClockGetTime(int clock, out TimeSpec time);

    public static double ProcessMicroseconds()
    {
        if (ClockGetTime(ClockProcessCpuTimeId, out var t) != 0) throw new InvalidOperationException("clock_gettime(CLOCK_PROCESS_CPUTIME_ID) failed");
        return t.Seconds * 1e6 + t.Nanoseconds / 1e3;
    }
}
