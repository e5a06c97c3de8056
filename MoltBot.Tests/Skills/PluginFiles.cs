using System.Diagnostics;

namespace MoltBot.Tests.Skills;

/// <summary>
/// The example plugin (examples/DiceRoller, built together with the tests) and ways to put it, or variants of it,
/// into a plugins folder.
/// </summary>
public static class PluginFiles
{
    /// <summary>examples/DiceRoller/bin/&lt;same configuration as the tests&gt;/net10.0.</summary>
    public static string DiceRollerBuild
    {
        get
        {
            // The tests run from MoltBot.Tests/bin/<Configuration>/net10.0/.
            var tfmDir = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar));
            string configuration = tfmDir.Parent!.Name;
            string dir = Path.Combine(RepoRoot.Path, "examples", "DiceRoller", "bin", configuration, tfmDir.Name);
            Assert.True(File.Exists(Path.Combine(dir, "DiceRoller.dll")), $"the example plugin is not built at {dir}");
            return dir;
        }
    }

    /// <summary>Copies the built example into plugins/&lt;folder&gt;, optionally with a different plugin.json.</summary>
    public static string InstallDice(string pluginsDirectory, string folder = "dice", string? pluginJson = null)
    {
        string target = Path.Combine(pluginsDirectory, folder);
        Directory.CreateDirectory(target);
        foreach (var file in Directory.GetFiles(DiceRollerBuild))
        {
            File.Copy(file, Path.Combine(target, Path.GetFileName(file)), overwrite: true);
        }
        if (pluginJson is not null) File.WriteAllText(Path.Combine(target, "plugin.json"), pluginJson);
        return target;
    }

    public static string DiceManifest(string id = "dice", string entryType = "DiceRoller.DiceRollerSkill", string permissions = "\"storage\"", int contractVersion = 1) => $$"""
        {
          "id": "{{id}}",
          "version": "1.0.0",
          "assembly": "DiceRoller.dll",
          "entryType": "{{entryType}}",
          "contractVersion": {{contractVersion}},
          "permissions": [{{permissions}}]
        }
        """;

    /// <summary>
    /// Compiles the example's sources as another version of the plugin with the SDK's C# compiler (what `dotnet
    /// build` runs), referencing the same MoltBot.Contracts the tests run with. Returns the DLL path.
    /// </summary>
    public static async Task<string> CompileDiceVersionAsync(string version, string outputDirectory)
    {
        string dotnetRoot = Path.GetFullPath(Path.Combine(Path.GetDirectoryName(typeof(object).Assembly.Location)!, "..", "..", ".."));
        string csc = Directory.GetDirectories(Path.Combine(dotnetRoot, "sdk"))
            .Select(d => Path.Combine(d, "Roslyn", "bincore", "csc.dll")).Where(File.Exists).OrderDescending().First();
        string refPack = Directory.GetDirectories(Path.Combine(dotnetRoot, "packs", "Microsoft.NETCore.App.Ref"))
            .Where(d => Path.GetFileName(d).StartsWith(Environment.Version.Major + ".", StringComparison.Ordinal)).OrderDescending().First();
        string refs = Path.Combine(refPack, "ref", $"net{Environment.Version.Major}.0");
        string generator = Path.Combine(refPack, "analyzers", "dotnet", "cs", "System.Text.RegularExpressions.Generator.dll");

        Directory.CreateDirectory(outputDirectory);
        string versionFile = Path.Combine(outputDirectory, "Version.cs");
        await File.WriteAllTextAsync(versionFile, $"""
            global using System;
            global using System.Collections.Generic;
            global using System.Linq;
            global using System.Threading;
            global using System.Threading.Tasks;
            [assembly: System.Reflection.AssemblyInformationalVersion("{version}")]
            [assembly: System.Reflection.AssemblyVersion("{version}.0")]
            """);
        string output = Path.Combine(outputDirectory, "DiceRoller.dll");
        var psi = new ProcessStartInfo(Path.Combine(dotnetRoot, "dotnet")) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var arg in new[] { csc, "-nologo", "-noconfig", "-nostdlib", "-target:library", "-nullable:enable", "-langversion:latest", "-out:" + output,
                     "-r:" + Path.Combine(AppContext.BaseDirectory, "MoltBot.Contracts.dll"), "-analyzer:" + generator, versionFile })
        {
            psi.ArgumentList.Add(arg);
        }
        foreach (var r in Directory.GetFiles(refs, "*.dll")) psi.ArgumentList.Add("-r:" + r);
        foreach (var src in Directory.GetFiles(Path.Combine(RepoRoot.Path, "examples", "DiceRoller"), "*.cs")) psi.ArgumentList.Add(src);

        using var process = Process.Start(psi)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(3));
        await process.WaitForExitAsync(timeout.Token);
        Assert.True(process.ExitCode == 0, $"csc failed: {await stdout} {await stderr}");
        return output;
    }
}
