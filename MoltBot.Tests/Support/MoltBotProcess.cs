using System.Diagnostics;
using System.Text;
using System.Text.RegularExpressions;

namespace MoltBot.Tests;

/// <summary>
/// The real `moltbot` executable (the host's build output copied next to the tests) run as a child process in a
/// temporary content root, for what only a process shows: exit codes, stderr lines, signals.
/// </summary>
public sealed partial class MoltBotProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _stdout = new();
    private readonly StringBuilder _stderr = new();
    private readonly Lock _gate = new();
    private readonly ChangeSignal _output = new(); // pulsed on every stdout/stderr line

    private MoltBotProcess(Process process, string root)
    {
        _process = process;
        Root = root;
    }

    public string Root { get; }
    public int Id => _process.Id;
    public string Stdout { get { lock (_gate) return _stdout.ToString(); } }
    public string Stderr { get { lock (_gate) return _stderr.ToString(); } }

    /// <summary>Starts `dotnet moltbot.dll ARGS` with the working directory set to a new temp content root.</summary>
    public static MoltBotProcess Start(IEnumerable<string> args, string? root = null, bool withModels = true)
    {
        root ??= Directory.CreateTempSubdirectory("moltbot-proc").FullName;
        var psi = new ProcessStartInfo("dotnet")
        {
            WorkingDirectory = root,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        psi.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "moltbot.dll"));
        foreach (var a in args) psi.ArgumentList.Add(a);
        if (withModels && !args.Contains("--Models:Directory"))
        {
            psi.ArgumentList.Add("--Models:Directory");
            psi.ArgumentList.Add(Path.Combine(RepoRoot.Path, "models"));
        }
        psi.Environment["DOTNET_NOLOGO"] = "1";
        var p = new Process { StartInfo = psi };
        var result = new MoltBotProcess(p, root);
        p.OutputDataReceived += (_, e) => result.Append(result._stdout, e.Data);
        p.ErrorDataReceived += (_, e) => result.Append(result._stderr, e.Data);
        p.Exited += (_, _) => result._output.Pulse();
        p.EnableRaisingEvents = true;
        p.Start();
        p.BeginOutputReadLine();
        p.BeginErrorReadLine();
        return result;
    }

    private void Append(StringBuilder to, string? line)
    {
        if (line is null) return;
        lock (_gate) to.AppendLine(line);
        _output.Pulse();
    }

    /// <summary>True once stdout contains <paramref name="text"/>; false if it does not within <paramref name="timeout"/>.</summary>
    public Task<bool> WaitForStdoutAsync(string text, TimeSpan timeout) =>
        _output.WaitUntilAsync(() => Stdout.Contains(text, StringComparison.Ordinal), timeout);

    public async Task<int> WaitForExitAsync(TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        await _process.WaitForExitAsync(cts.Token);
        return _process.ExitCode;
    }

    /// <summary>Waits for the "Now listening on: URL" log line and returns the URL.</summary>
    public async Task<Uri> WaitForListeningAsync(TimeSpan timeout)
    {
        await _output.WaitUntilAsync(() => ListeningLine().IsMatch(Stderr) || _process.HasExited, timeout);
        var m = ListeningLine().Match(Stderr);
        if (m.Success) return new Uri(m.Groups[1].Value);
        if (_process.HasExited) throw new InvalidOperationException("moltbot exited: " + Stderr);
        throw new TimeoutException("moltbot did not start listening: " + Stderr);
    }

    /// <summary>Sends SIGTERM, as systemd and `kill` do.</summary>
    public void Terminate()
    {
        using var kill = Process.Start("kill", ["-TERM", _process.Id.ToString()]);
        kill.WaitForExit();
    }

    [GeneratedRegex(@"Now listening on: (http://\S+)")]
    private static partial Regex ListeningLine();

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }
        _process.Dispose();
        try { Directory.Delete(Root, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }
}
