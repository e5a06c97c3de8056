using System.Globalization;
using System.Runtime.InteropServices;

namespace MoltBot.Inference.Engines;

/// <summary>
/// Hands start-up-only code pages back to the kernel: libtorch's and, in a composite ReadyToRun publish, the precompiled
/// image of the runtime and MoltBot (`*.r2r.dll`), whose start-up code (host building, DI, configuration binding) does
/// not run again. Loading libtorch runs the static initialisers that
/// register thousands of operators, which faults in ≈ 70 MB of its machine code; serving a few small models then
/// executes ≈ 15–20 MB of it. MADV_PAGEOUT asks the kernel to reclaim the mapping's resident pages now, as it would
/// under memory pressure: the pages are clean (code is never written), so nothing is lost, and the ones the serving
/// path still uses fault back in from the page cache on their next use (once, microseconds each).
/// Only executable, non-writable file mappings are advised; writable or relocated data is never touched.
/// </summary>
internal static partial class NativeCodePages
{
    private const int MadvPageout = 21; // MADV_PAGEOUT, Linux ≥ 5.4

    /// <summary>
    /// Reclaims the resident code pages of every loaded library whose file name starts with one of
    /// <paramref name="fileNamePrefixes"/> (or, for a pattern "*.suffix", ends with it); returns the bytes of the
    /// mappings the kernel accepted (0 where unsupported).
    /// </summary>
    public static long Release(params string[] fileNamePrefixes)
    {
        if (!OperatingSystem.IsLinux()) return 0;
        long advised = 0;
        foreach (var map in CodeMappings(fileNamePrefixes))
        {
            try
            {
                if (madvise((nint)map.Start, (nuint)(map.End - map.Start), MadvPageout) == 0) advised += (long)(map.End - map.Start);
            }
            catch (Exception ex) when (ex is EntryPointNotFoundException or DllNotFoundException)
            {
                return advised; // not glibc
            }
        }
        return advised;
    }

    /// <summary>Resident bytes (smaps Rss) of the code mappings <see cref="Release"/> would advise.</summary>
    public static long ResidentBytes(params string[] fileNamePrefixes)
    {
        if (!OperatingSystem.IsLinux()) return 0;
        var starts = CodeMappings(fileNamePrefixes).Select(m => m.Start).ToHashSet();
        long total = 0;
        bool inside = false;
        foreach (string line in File.ReadLines("/proc/self/smaps"))
        {
            if (TryParseMapping(line, out var map)) inside = starts.Contains(map.Start);
            else if (inside && line.StartsWith("Rss:", StringComparison.Ordinal))
                total += long.Parse(line.AsSpan(4).Trim().TrimEnd("kB").Trim(), CultureInfo.InvariantCulture) * 1024;
        }
        return total;
    }

    /// <summary>The path of a loaded library whose file name starts with <paramref name="fileNamePrefix"/>, or null.</summary>
    public static string? LoadedLibrary(string fileNamePrefix)
    {
        if (!OperatingSystem.IsLinux()) return null;
        foreach (string line in File.ReadLines("/proc/self/maps"))
        {
            if (TryParseMapping(line, out var map) && map.Path.StartsWith('/') && Path.GetFileName(map.Path).StartsWith(fileNamePrefix, StringComparison.Ordinal))
                return map.Path;
        }
        return null;
    }

    private static List<Mapping> CodeMappings(string[] prefixes)
    {
        var result = new List<Mapping>();
        foreach (string line in File.ReadLines("/proc/self/maps"))
        {
            if (!TryParseMapping(line, out var map)) continue;
            if (map.Permissions is not "r-xp") continue; // executable, never written: safe to drop and re-read
            string name = Path.GetFileName(map.Path);
            if (prefixes.Any(p => Matches(name, p))) result.Add(map);
        }
        return result;
    }

    private static bool Matches(string fileName, string pattern) =>
        pattern.StartsWith('*')
            ? fileName.Length > pattern.Length - 1 && fileName.EndsWith(pattern[1..], StringComparison.Ordinal)
            : fileName.StartsWith(pattern, StringComparison.Ordinal);

    /// <summary>One /proc/self/maps line: "start-end perms offset dev inode path".</summary>
    private static bool TryParseMapping(string line, out Mapping map)
    {
        map = default;
        var parts = line.Split(' ', 6, StringSplitOptions.RemoveEmptyEntries);
        if (parts.Length < 5 || !parts[0].Contains('-') || parts[1].Length != 4) return false; // anonymous: no path
        int dash = parts[0].IndexOf('-');
        if (!ulong.TryParse(parts[0].AsSpan(0, dash), NumberStyles.HexNumber, CultureInfo.InvariantCulture, out ulong start)
            || !ulong.TryParse(parts[0].AsSpan(dash + 1), NumberStyles.HexNumber, CultureInfo.InvariantCulture, out ulong end))
            return false;
        map = new Mapping(start, end, parts[1], parts.Length > 5 ? parts[5].Trim() : "");
        return true;
    }

    private readonly record struct Mapping(ulong Start, ulong End, string Permissions, string Path);

    [LibraryImport("libc", EntryPoint = "madvise", SetLastError = true)]
    private static partial int madvise(nint address, nuint length, int advice);
}
