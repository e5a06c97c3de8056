using System.Diagnostics;
using System.Text.Json;

namespace MoltBot.Tests.Hosting;

/// <summary>
/// What `dotnet publish MoltBot` compiles ahead of time, as MSBuild evaluates MoltBot.csproj for a publish (the
/// systemd install, README "As a systemd service"): a self-contained composite ReadyToRun build precompiled for
/// x86-64-v3, so the runtime's AVX2 code paths are not JIT-compiled at start-up (docs/performance.md, "cold6").
/// </summary>
public class PublishSettingsTests
{
    [Fact]
    public async Task A_publish_precompiles_composite_ReadyToRun_code_for_x86_64_v3()
    {
        var p = await EvaluateAsync("-p:_IsPublishing=true");
        Assert.Equal("true", p["PublishReadyToRun"]);
        Assert.Equal("true", p["PublishReadyToRunComposite"]);
        Assert.Equal("--instruction-set:x86-64-v3", p["PublishReadyToRunCrossgen2ExtraArgs"]);
    }

    [Fact]
    public async Task The_instruction_set_can_be_overridden_and_a_plain_build_sets_none()
    {
        var overridden = await EvaluateAsync("-p:_IsPublishing=true", "-p:PublishReadyToRunCrossgen2ExtraArgs=--instruction-set:x86-64-v2");
        Assert.Equal("--instruction-set:x86-64-v2", overridden["PublishReadyToRunCrossgen2ExtraArgs"]);
        var build = await EvaluateAsync();
        Assert.Equal("", build["PublishReadyToRunCrossgen2ExtraArgs"]);
    }

    /// <summary>`dotnet msbuild -getProperty` on MoltBot.csproj: evaluation only, nothing is built.</summary>
    private static async Task<Dictionary<string, string>> EvaluateAsync(params string[] properties)
    {
        var psi = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = RepoRoot.Path,
        };
        foreach (var a in new[] { "msbuild", Path.Combine("MoltBot", "MoltBot.csproj"), "-nologo",
                     "-getProperty:PublishReadyToRun", "-getProperty:PublishReadyToRunComposite", "-getProperty:PublishReadyToRunCrossgen2ExtraArgs" }
                     .Concat(properties))
            psi.ArgumentList.Add(a);
        using var process = Process.Start(psi)!;
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(3));
        var stdout = process.StandardOutput.ReadToEndAsync(timeout.Token);
        var stderr = process.StandardError.ReadToEndAsync(timeout.Token);
        await process.WaitForExitAsync(timeout.Token);
        Assert.True(process.ExitCode == 0, $"dotnet msbuild failed ({process.ExitCode}): {await stdout} {await stderr}");
        using var doc = JsonDocument.Parse(await stdout);
        return doc.RootElement.GetProperty("Properties").EnumerateObject().ToDictionary(x => x.Name, x => x.Value.GetString() ?? "");
    }
}
