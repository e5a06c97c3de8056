using System.Text.Json;

namespace MoltBot.Tests.Hosting;

/// <summary>The host's GC settings that issue 10's peak-RSS target relies on, as the runtime reads them.</summary>
public class GcSettingsTests
{
    /// <summary>
    /// MoltBot.csproj caps the gen0 budget through runtimeconfig.json ("System.GC.Gen0MaxBudget", the name the GC reads
    /// from it; "GCgen0size" is read from the environment only — checked with GC.GetConfigurationVariables, see
    /// docs/performance.md). The file the build wrote next to moltbot.dll is what the runtime reads at start.
    /// </summary>
    [Fact]
    public void The_built_runtimeconfig_caps_the_gen0_budget_at_12_MB()
    {
        string file = Path.Combine(AppContext.BaseDirectory, "moltbot.runtimeconfig.json");
        using var doc = JsonDocument.Parse(File.ReadAllText(file));
        var properties = doc.RootElement.GetProperty("runtimeOptions").GetProperty("configProperties");
        Assert.Equal(12 * 1024 * 1024, properties.GetProperty("System.GC.Gen0MaxBudget").GetInt64());
        Assert.False(properties.GetProperty("System.GC.Server").GetBoolean()); // the budget is workstation GC's
    }

    /// <summary>MoltBot.csproj turns tiered PGO off (≈ 7 MB less JIT code resident; docs/performance.md).</summary>
    [Fact]
    public void The_built_runtimeconfig_turns_tiered_PGO_off()
    {
        string file = Path.Combine(AppContext.BaseDirectory, "moltbot.runtimeconfig.json");
        using var doc = JsonDocument.Parse(File.ReadAllText(file));
        var properties = doc.RootElement.GetProperty("runtimeOptions").GetProperty("configProperties");
        Assert.False(properties.GetProperty("System.Runtime.TieredPGO").GetBoolean());
    }

    /// <summary>
    /// MoltBot.csproj names the runtime's segments GC (libclrgc.so) in runtimeconfig.json; a server started from the
    /// build output must actually run it (the runtime maps the library it loaded), or the RSS figures in
    /// docs/performance.md are not what a user gets.
    /// </summary>
    [Fact]
    public async Task A_started_server_runs_the_segments_GC_named_in_its_runtimeconfig()
    {
        string file = Path.Combine(AppContext.BaseDirectory, "moltbot.runtimeconfig.json");
        using (var doc = JsonDocument.Parse(File.ReadAllText(file)))
        {
            var properties = doc.RootElement.GetProperty("runtimeOptions").GetProperty("configProperties");
            Assert.Equal("libclrgc.so", properties.GetProperty("System.GC.Name").GetString());
        }
        await using var p = MoltBotProcess.Start(["--urls", "http://127.0.0.1:0", "--Log:File", "false"]);
        await p.WaitForListeningAsync(TimeSpan.FromSeconds(60));
        string maps = await File.ReadAllTextAsync($"/proc/{p.Id}/maps");
        Assert.Contains("/libclrgc.so", maps, StringComparison.Ordinal);
    }
}
