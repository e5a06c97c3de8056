using System.Runtime.InteropServices;
using TorchSharp;

namespace MoltBot.Inference.Engines;

/// <summary>
/// Runs start-up model loads with one OpenMP thread on the calling thread only. libtorch parallelises tensor
/// operations with OpenMP, and on the 2 cores MoltBot targets the team's second thread spins between the loads'
/// many short parallel regions (libgomp was 6–14 % of the start-up CPU, docs/performance.md), taking the core the host's
/// own start-up and the first reply need. OpenMP's thread count is per calling thread (its nthreads ICV), so setting
/// it on the loading thread, and restoring it before that pool thread serves anything else, leaves every other
/// thread's torch work — serving included — as configured. Without libgomp (another build of libtorch) it just runs.
/// </summary>
internal static unsafe class LoaderThreads
{
    private static readonly Lazy<(nint Set, nint Get)> OpenMp = new(FindOpenMp);

    /// <summary>True when libgomp's entry points were found (after libtorch is loaded).</summary>
    public static bool Available => OpenMp.Value.Set != 0;

    /// <summary>Runs <paramref name="load"/> on this thread with one OpenMP thread, then restores this thread's count.</summary>
    public static T RunSingleThreaded<T>(Func<T> load)
    {
        _ = torch.get_num_threads(); // libtorch sets each thread's OpenMP count on its first use: let it do so first
        var (set, get) = OpenMp.Value;
        if (set == 0) return load();
        int before = ((delegate* unmanaged<int>)get)();
        ((delegate* unmanaged<int, void>)set)(1);
        try
        {
            return load();
        }
        finally
        {
            ((delegate* unmanaged<int, void>)set)(before);
        }
    }

    private static (nint, nint) FindOpenMp()
    {
        _ = torch.get_num_threads(); // loads libtorch and its libgomp
        string? path = NativeCodePages.LoadedLibrary("libgomp");
        if (path is null || !NativeLibrary.TryLoad(path, out nint lib)) return (0, 0);
        return NativeLibrary.TryGetExport(lib, "omp_set_num_threads", out nint set) && NativeLibrary.TryGetExport(lib, "omp_get_max_threads", out nint get)
            ? (set, get) : (0, 0);
    }
}
