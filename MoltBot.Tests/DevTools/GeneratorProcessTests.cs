using System.Diagnostics;
using MoltBot.Bench.Load;

namespace MoltBot.Tests.DevTools;

/// <summary>`load` re-runs itself with tiered PGO off unless the caller chose a PGO setting (GeneratorProcess).</summary>
public class GeneratorProcessTests
{
    private static Func<string, string?> Env(params (string Key, string Value)[] vars) =>
        key => vars.FirstOrDefault(v => v.Key == key).Value;

    [Fact]
    public void The_apphost_is_started_again_with_the_same_arguments_and_PGO_off()
    {
        var psi = GeneratorProcess.ChildStartInfo(["load", "--url", "http://127.0.0.1:5000", "--messages", "10"], "/opt/bench/MoltBot.Bench", "/opt/bench/MoltBot.Bench.dll", Env())!;
        Assert.Equal("/opt/bench/MoltBot.Bench", psi.FileName);
        Assert.Equal(["load", "--url", "http://127.0.0.1:5000", "--messages", "10"], psi.ArgumentList);
        Assert.Equal("0", psi.Environment[GeneratorProcess.TieredPgoVariable]);
        Assert.Equal("1", psi.Environment[GeneratorProcess.MarkerVariable]);
        Assert.Equal("0", psi.Environment[GeneratorProcess.SpinLimitVariable]);
        Assert.Equal("1", psi.Environment[GeneratorProcess.SpinMarkerVariable]);
        Assert.False(psi.UseShellExecute);
        Assert.False(psi.RedirectStandardOutput || psi.RedirectStandardError || psi.RedirectStandardInput);
    }

    [Fact]
    public void Under_the_dotnet_host_the_entry_assembly_comes_first()
    {
        var psi = GeneratorProcess.ChildStartInfo(["load"], "/usr/share/dotnet/dotnet", "/opt/bench/MoltBot.Bench.dll", Env())!;
        Assert.Equal(["/opt/bench/MoltBot.Bench.dll", "load"], psi.ArgumentList);
    }

    [Fact]
    public void A_spin_limit_the_caller_set_is_left_as_it_is()
    {
        var psi = GeneratorProcess.ChildStartInfo(["load"], "/b/MoltBot.Bench", "/b/MoltBot.Bench.dll", Env((GeneratorProcess.SpinLimitVariable, "70")))!;
        Assert.False(psi.Environment.ContainsKey(GeneratorProcess.SpinMarkerVariable));
        GeneratorProcess.RemoveFrom(psi.Environment);
        Assert.NotEqual("0", psi.Environment.TryGetValue(GeneratorProcess.SpinLimitVariable, out var v) ? v : null);
    }

    [Fact]
    public void A_PGO_setting_of_the_caller_or_an_already_restarted_generator_runs_in_process()
    {
        Assert.Null(GeneratorProcess.ChildStartInfo(["load"], "/b/MoltBot.Bench", "/b/MoltBot.Bench.dll", Env((GeneratorProcess.TieredPgoVariable, "1"))));
        Assert.Null(GeneratorProcess.ChildStartInfo(["load"], "/b/MoltBot.Bench", "/b/MoltBot.Bench.dll", Env((GeneratorProcess.TieredPgoVariable, "0"))));
        Assert.Null(GeneratorProcess.ChildStartInfo(["load"], "/b/MoltBot.Bench", "/b/MoltBot.Bench.dll", Env((GeneratorProcess.MarkerVariable, "1"))));
        Assert.Null(GeneratorProcess.ChildStartInfo(["load"], null, "/b/MoltBot.Bench.dll", Env()));
    }

    [Fact]
    public void A_server_started_by_the_generator_gets_the_PGO_setting_only_if_the_user_gave_it()
    {
        var fromParent = new Dictionary<string, string?>
        {
            [GeneratorProcess.TieredPgoVariable] = "0", [GeneratorProcess.MarkerVariable] = "1",
            [GeneratorProcess.SpinLimitVariable] = "0", [GeneratorProcess.SpinMarkerVariable] = "1", ["PATH"] = "/bin",
        };
        GeneratorProcess.RemoveFrom(fromParent);
        Assert.Equal(["PATH"], fromParent.Keys);

        var fromUser = new Dictionary<string, string?> { [GeneratorProcess.TieredPgoVariable] = "0", [GeneratorProcess.SpinLimitVariable] = "0" };
        GeneratorProcess.RemoveFrom(fromUser);
        Assert.Equal("0", fromUser[GeneratorProcess.TieredPgoVariable]);
        Assert.Equal("0", fromUser[GeneratorProcess.SpinLimitVariable]);
    }

    [Fact]
    public async Task The_load_verb_restarts_itself_and_the_child_runs_the_measurement()
    {
        await using var host = await TestHost.StartAsync(new Dictionary<string, string>
        {
            ["Gateway:RatePerSecond"] = "10000",
            ["Gateway:RateBurst"] = "100000",
        });
        string repo = RepoRoot();
        string configuration = AppContext.BaseDirectory.Contains($"{Path.DirectorySeparatorChar}Release{Path.DirectorySeparatorChar}") ? "Release" : "Debug";
        string bench = Path.Combine(repo, "MoltBot.Bench", "bin", configuration, "net10.0", "MoltBot.Bench.dll");
        string output = Directory.CreateTempSubdirectory("moltbot-generator-test").FullName;
        try
        {
            var psi = new ProcessStartInfo("dotnet") { WorkingDirectory = repo, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
            foreach (var a in new[] { bench, "load", "--url", host.BaseAddress.ToString().TrimEnd('/'), "--scenario", "skill", "--connections", "2", "--messages", "3", "--out", output })
                psi.ArgumentList.Add(a);
            psi.Environment.Remove(GeneratorProcess.TieredPgoVariable);
            psi.Environment.Remove(GeneratorProcess.MarkerVariable);
            psi.Environment.Remove(GeneratorProcess.SpinLimitVariable);
            psi.Environment.Remove(GeneratorProcess.SpinMarkerVariable);
            using var p = Process.Start(psi)!;
            var stdout = p.StandardOutput.ReadToEndAsync();
            var stderr = p.StandardError.ReadToEndAsync();
            using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(3));
            await p.WaitForExitAsync(timeout.Token);
            string err = await stderr, outText = await stdout;
            Assert.True(p.ExitCode == 0, $"exit {p.ExitCode}: {err} {outText}");
            Assert.Contains("generator running with tiered PGO off", err); // printed by the child only
            Assert.Contains("| skill | 2 | max | 6 | 6 | 0 | 0 | 0 |", outText); // sent, answered, lost, dup, errors
        }
        finally
        {
            Directory.Delete(output, recursive: true);
        }
    }

    private static string RepoRoot()
    {
        for (var d = new DirectoryInfo(AppContext.BaseDirectory); d is not null; d = d.Parent)
            if (File.Exists(Path.Combine(d.FullName, "MoltBot.sln"))) return d.FullName;
        throw new InvalidOperationException("MoltBot.sln not found above the test's directory");
    }
}
