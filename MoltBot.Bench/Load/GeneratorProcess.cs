using System.Diagnostics;

namespace MoltBot.Bench.Load;

/// <summary>
/// `load` runs the generator in a child process of itself with tiered PGO off (DOTNET_TieredPGO=0, a runtime setting
/// read at process start, so it cannot be switched on for one verb of a running process). With PGO on, the generator's
/// hot loop spends a good part of a short run in instrumented code waiting for its tier-1 rejit, on the cores the
/// server needs (docs/performance.md, sessions skill3 and skill5). What it measures is unchanged. Not applied when the
/// caller set DOTNET_TieredPGO itself; the child server a `load` run starts gets the environment it had before
/// (<see cref="MoltBotServer"/> drops the setting again).
/// The child also runs without the thread pool's spinning (DOTNET_ThreadPool_UnfairSemaphoreSpinLimit=0) unless the
/// caller set that: the generator's work runs on the socket engine's thread (inline completions), so its idle pool
/// workers only spun (`sched_yield`, ≈ 7 % of the generator's samples in its measuring window) on the cores the server
/// needs (docs/performance.md, "hops9").
/// </summary>
public static class GeneratorProcess
{
    public const string TieredPgoVariable = "DOTNET_TieredPGO";
    /// <summary>Set in the child generator: the DOTNET_TieredPGO it sees was set by its parent, not by the user.</summary>
    public const string MarkerVariable = "MOLTBOT_LOAD_GENERATOR_PGO_OFF";
    public const string SpinLimitVariable = "DOTNET_ThreadPool_UnfairSemaphoreSpinLimit";
    /// <summary>Set in the child generator when its parent (not the user) turned the thread pool's spinning off.</summary>
    public const string SpinMarkerVariable = "MOLTBOT_LOAD_GENERATOR_SPIN_OFF";

    /// <summary>
    /// How to start the generator again with PGO off, or null to run in this process (the user chose a PGO setting, or
    /// this is already the child). <paramref name="processPath"/> is this process's executable: the apphost, or the
    /// dotnet host running <paramref name="entryAssembly"/>.
    /// </summary>
    public static ProcessStartInfo? ChildStartInfo(string[] args, string? processPath, string entryAssembly, Func<string, string?> environment)
    {
        if (environment(TieredPgoVariable) is not null || environment(MarkerVariable) is not null || processPath is null) return null;
        var psi = new ProcessStartInfo(processPath) { UseShellExecute = false }; // stdin/stdout/stderr are this process's
        if (Path.GetFileNameWithoutExtension(processPath) == "dotnet") psi.ArgumentList.Add(entryAssembly);
        foreach (var a in args) psi.ArgumentList.Add(a);
        psi.Environment[TieredPgoVariable] = "0";
        psi.Environment[MarkerVariable] = "1";
        if (environment(SpinLimitVariable) is null)
        {
            psi.Environment[SpinLimitVariable] = "0";
            psi.Environment[SpinMarkerVariable] = "1";
        }
        return psi;
    }

    /// <summary>Runs the child generator to its end and returns its exit code; Ctrl+C reaches both, the parent waits for the child.</summary>
    public static async Task<int> RunChildAsync(ProcessStartInfo psi)
    {
        Console.CancelKeyPress += (_, e) => e.Cancel = true; // the child handles it and ends; this process follows
        using var child = Process.Start(psi) ?? throw new InvalidOperationException($"cannot start {psi.FileName}");
        await child.WaitForExitAsync();
        return child.ExitCode;
    }

    /// <summary>For a server started by the generator: the PGO and spin settings the parent gave the generator are not the server's.</summary>
    public static void RemoveFrom(IDictionary<string, string?> environment)
    {
        if (environment.Remove(MarkerVariable)) environment.Remove(TieredPgoVariable);
        if (environment.Remove(SpinMarkerVariable)) environment.Remove(SpinLimitVariable);
    }
}
