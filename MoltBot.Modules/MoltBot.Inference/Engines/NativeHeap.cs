using System.Runtime.InteropServices;

namespace MoltBot.Inference.Engines;

/// <summary>
/// glibc malloc tuning for libtorch's CPU allocations. By default glibc gives each thread that contends for the heap
/// its own arena (up to 8 × cores), and every arena keeps the memory freed into it: with the NLU worker, the decode
/// loops, torch's intra-op threads and the thread pool all allocating tensors, resident memory grows with the number
/// of threads that ever ran a forward pass. Two arenas keep that bounded.
/// </summary>
internal static partial class NativeHeap
{
    private const int MallocArenaMax = -8; // M_ARENA_MAX in malloc.h

    /// <summary>Limits glibc to <paramref name="arenas"/> malloc arenas (0 = glibc's default); false where there is no glibc.</summary>
    public static bool LimitArenas(int arenas)
    {
        if (arenas <= 0 || !OperatingSystem.IsLinux()) return false;
        try
        {
            return mallopt(MallocArenaMax, arenas) == 1;
        }
        catch (Exception ex) when (ex is EntryPointNotFoundException or DllNotFoundException)
        {
            return false; // not glibc (e.g. musl)
        }
    }

    /// <summary>Returns freed heap memory to the OS (after start-up, whose temporary tensors are gone).</summary>
    public static void Trim()
    {
        if (!OperatingSystem.IsLinux()) return;
        try
        {
            _ = malloc_trim(0);
        }
        catch (Exception ex) when (ex is EntryPointNotFoundException or DllNotFoundException)
        {
        }
    }

    [LibraryImport("libc", EntryPoint = "mallopt")]
    private static partial int mallopt(int param, int value);

    [LibraryImport("libc", EntryPoint = "malloc_trim")]
    private static partial int malloc_trim(nuint pad);
}
