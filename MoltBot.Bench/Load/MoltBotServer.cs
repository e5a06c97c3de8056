using System.Diagnostics;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace MoltBot.Bench.Load;

/// <summary>
/// MoltBot as a child process on its embedded defaults (fresh data directory, free loopback port), as a user
/// would run it; or an already running instance (--url). Reads peak RSS and CPU time from /proc.
/// </summary>
public sealed partial class MoltBotServer : IAsyncDisposable
{
    private readonly Process? _process;
    private readonly string? _dataDir;
    private readonly bool _owned;

    private MoltBotServer(Uri url, Process? process, string? dataDir, TimeSpan startToListening, bool owned = true)
    {
        _owned = owned;
        Url = url;
        _process = process;
        _dataDir = dataDir;
        StartToListening = startToListening;
    }

    /// <summary>.NET's switch for running socket completions inline on the epoll thread (the generator sets it for itself).</summary>
    public const string InlineCompletionsVariable = "DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS";

    public Uri Url { get; }
    public TimeSpan StartToListening { get; }
    public int? ProcessId => _process?.Id;
    /// <summary>True for a child server this generator started (its stderr is read: start-up lines, model loads).</summary>
    public bool StartedHere => _owned && _process is not null;

    /// <param name="processId">The running server's process id (--server-pid): its CPU time and peak RSS get reported; it is never stopped.</param>
    public static MoltBotServer Attach(Uri url, int? processId = null) =>
        new(url, processId is { } pid ? Process.GetProcessById(pid) : null, null, TimeSpan.Zero, owned: false);

    /// <param name="moltbotDll">Path to moltbot.dll (Release build recommended).</param>
    public static async Task<MoltBotServer> StartAsync(string moltbotDll, string repoRoot, IEnumerable<string> extraArgs, CancellationToken ct)
    {
        string data = Directory.CreateTempSubdirectory("moltbot-load").FullName;
        var psi = new ProcessStartInfo("dotnet")
        {
            WorkingDirectory = repoRoot, // its appsettings.json and models/: the embedded defaults
            RedirectStandardError = true,
            RedirectStandardOutput = true,
            UseShellExecute = false,
        };
        psi.Environment.Remove(InlineCompletionsVariable);
        GeneratorProcess.RemoveFrom(psi.Environment);
        foreach (var a in new[] { moltbotDll, "run", "--urls", "http://127.0.0.1:0", "--Storage:DataDirectory", data }.Concat(extraArgs))
            psi.ArgumentList.Add(a);
        var sw = Stopwatch.StartNew();
        var p = Process.Start(psi) ?? throw new InvalidOperationException("cannot start dotnet");
        var url = new TaskCompletionSource<Uri>(TaskCreationOptions.RunContinuationsAsynchronously);
        var stderr = new System.Text.StringBuilder();
        var startupLines = new List<string>();
        var modelsLoaded = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        p.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is null) return;
            lock (stderr) stderr.AppendLine(e.Data);
            if (StartupLine().IsMatch(e.Data)) lock (startupLines) startupLines.Add(e.Data);
            if (e.Data.Contains("Inference start-up:", StringComparison.Ordinal)) modelsLoaded.TrySetResult(); // logged once every model is loaded
            var m = Listening().Match(e.Data);
            if (m.Success) url.TrySetResult(new Uri(m.Groups[1].Value));
        };
        p.OutputDataReceived += (_, _) => { };
        p.BeginErrorReadLine();
        p.BeginOutputReadLine();
        var exited = p.WaitForExitAsync(ct);
        var first = await Task.WhenAny(url.Task, exited, Task.Delay(TimeSpan.FromMinutes(2), ct));
        if (first != url.Task)
        {
            if (!p.HasExited) p.Kill(true);
            lock (stderr) throw new InvalidOperationException("MoltBot did not start:\n" + stderr);
        }
        return new MoltBotServer(await url.Task, p, data, sw.Elapsed) { startupLog = startupLines, modelsLoaded = modelsLoaded.Task };
    }

    private List<string> startupLog = [];
    private Task modelsLoaded = Task.CompletedTask;

    /// <summary>
    /// Waits until the server logged its inference start-up summary (every model loaded, the deferred ones included), at
    /// most <paramref name="timeout"/>: false when it did not come (a server attached by URL never reports it).
    /// </summary>
    public async Task<bool> WaitForModelsLoadedAsync(TimeSpan timeout, CancellationToken ct)
    {
        // Only a child's stderr is read: an attached server (even with --server-pid) cannot be watched.
        if (!StartedHere) return false;
        try
        {
            await modelsLoaded.WaitAsync(timeout, ct);
            return true;
        }
        catch (TimeoutException)
        {
            return false;
        }
    }

    /// <summary>The server's start-up timeline and inference start-up lines seen on its stderr so far.</summary>
    public IReadOnlyList<string> StartupLog
    {
        get { lock (startupLog) return startupLog.ToList(); }
    }

    /// <summary>
    /// CPU time (user + system) per thread name so far, from /proc/PID/task/*/stat, largest first: shows where the
    /// start-up CPU goes (main thread, thread-pool workers, the JIT's tiering thread, libtorch's OpenMP threads, GC).
    /// Threads that already exited are not listed.
    /// </summary>
    public IReadOnlyList<(string Thread, int Count, double CpuMs)> ThreadCpu()
    {
        if (_process is null || _process.HasExited) return [];
        double tick = 1000.0 / 100; // USER_HZ is 100 on Linux
        var byName = new Dictionary<string, (int Count, double Ms)>();
        foreach (var task in Directory.EnumerateDirectories($"/proc/{_process.Id}/task"))
        {
            try
            {
                string stat = File.ReadAllText(Path.Combine(task, "stat"));
                int open = stat.IndexOf('('), close = stat.LastIndexOf(')');
                string name = stat[(open + 1)..close];
                var fields = stat[(close + 2)..].Split(' ');
                double ms = (long.Parse(fields[11]) + long.Parse(fields[12])) * tick; // utime, stime (fields 14, 15)
                var (c, m) = byName.GetValueOrDefault(name);
                byName[name] = (c + 1, m + ms);
            }
            catch (IOException)
            {
                // the thread exited meanwhile
            }
        }
        return byName.Select(kv => (kv.Key, kv.Value.Count, kv.Value.Ms)).OrderByDescending(t => t.Ms).ToList();
    }

    [GeneratedRegex(@"Start-up timeline|Inference start-up|all modules started")]
    private static partial Regex StartupLine();

    /// <summary>The web-chat token MoltBot hands to loopback clients (docs/protocol.md).</summary>
    public async Task<string> GetTokenAsync(CancellationToken ct)
    {
        using var http = new HttpClient { BaseAddress = Url };
        using var doc = JsonDocument.Parse(await http.GetStringAsync("/webchat/token", ct));
        return doc.RootElement.GetProperty("token").GetString()!;
    }

    /// <summary>Peak resident set (VmHWM) in bytes, from /proc.</summary>
    public long? PeakRssBytes()
    {
        if (_process is null || _process.HasExited) return null;
        foreach (var line in File.ReadLines($"/proc/{_process.Id}/status"))
        {
            if (line.StartsWith("VmHWM:", StringComparison.Ordinal))
                return long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1]) * 1024;
        }
        return null;
    }

    /// <summary>User + system CPU time of the server so far.</summary>
    public TimeSpan? CpuTime()
    {
        if (_process is null || _process.HasExited) return null;
        _process.Refresh();
        return _process.TotalProcessorTime;
    }

    [GeneratedRegex(@"Now listening on: (http://\S+)")]
    private static partial Regex Listening();

    public async ValueTask DisposeAsync()
    {
        if (_owned && _process is { HasExited: false })
        {
            using (var kill = Process.Start("kill", ["-TERM", _process.Id.ToString()])) await kill.WaitForExitAsync();
            using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(30));
            try { await _process.WaitForExitAsync(cts.Token); }
            catch (OperationCanceledException) { _process.Kill(true); }
        }
        _process?.Dispose();
        if (_dataDir is not null) try { Directory.Delete(_dataDir, true); } catch (IOException) { }
    }
}
