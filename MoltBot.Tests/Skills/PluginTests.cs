using MoltBot.Contracts.Admin;
using MoltBot.Skills.Plugins;

namespace MoltBot.Tests.Skills;

public class PluginTests
{
    [Fact]
    public async Task The_example_plugin_loads_from_the_plugins_folder_matches_and_uses_its_declared_storage()
    {
        string root = SkillsHarness.NewRoot();
        PluginFiles.InstallDice(Path.Combine(root, "plugins"));
        await using var skills = await SkillsHarness.StartAsync(root);
        try
        {
            var manifest = Assert.Single(skills.Dispatcher.Skills, s => s.Id == "dice");
            Assert.Equal(["storage"], manifest.Permissions);
            Assert.Equal("dice", skills.Dispatcher.Match("roll 2d6", SkillsHarness.Nlu())!.Id);
            Assert.Equal("dice", skills.Dispatcher.Match("掷两个骰子", SkillsHarness.Nlu(language: "zh"))!.Id);
            Assert.Equal("dice", skills.Dispatcher.Match("3d20", SkillsHarness.Nlu())!.Id); // by pattern

            var (_, first) = await skills.SayAsync("roll 2d6");
            Assert.Matches(@"^🎲 2d6: (\d+) \((\d) \+ (\d)\)\. That's roll number 1 for you\. \[dice 1\.0\.0\]$", first.Text);
            var (_, second) = await skills.SayAsync("掷两个骰子", "zh");
            Assert.Contains("这是你第2次掷骰子", second.Text);
            Assert.True(File.Exists(Path.Combine(root, "data", "skills", "storage.db")));

            // Help lists the plugin too.
            var help = await skills.Dispatcher.ExecuteAsync("help", SkillsHarness.Context("help"), CancellationToken.None);
            Assert.Contains("roll 2d6", help.Text);
        }
        finally
        {
            SkillsHarness.DeleteRoot(root);
        }
    }

    [Fact]
    public async Task Broken_and_incompatible_plugins_are_rejected_with_a_clear_message_while_the_others_work()
    {
        string root = SkillsHarness.NewRoot();
        string plugins = Path.Combine(root, "plugins");
        PluginFiles.InstallDice(plugins);
        PluginFiles.InstallDice(plugins, "bad-json", "{ \"id\": \"bad\", ");
        PluginFiles.InstallDice(plugins, "no-entry", PluginFiles.DiceManifest("no-entry", entryType: "DiceRoller.DoesNotExist"));
        PluginFiles.InstallDice(plugins, "throws", PluginFiles.DiceManifest("throws", permissions: ""));
        PluginFiles.InstallDice(plugins, "future", PluginFiles.DiceManifest("future", contractVersion: 2));
        PluginFiles.InstallDice(plugins, "evil", PluginFiles.DiceManifest("evil", permissions: "\"root\""));
        PluginFiles.InstallDice(plugins, "clash", PluginFiles.DiceManifest("weather"));
        Directory.CreateDirectory(Path.Combine(plugins, "empty"));
        await using var skills = await SkillsHarness.StartAsync(root);
        try
        {
            // The good plugin and every built-in work.
            var (_, roll) = await skills.SayAsync("roll a die");
            Assert.StartsWith("🎲 1d6:", roll.Text);
            Assert.Equal(["time", "weather", "reminders", "help", "dice"], skills.Dispatcher.Skills.Select(s => s.Id));

            var status = skills.Services.GetRequiredService<ISkillAdmin>() as PluginManager;
            string Error(string folder) => Assert.Single(status!.Status, s => s.Folder == folder).Error ?? "";
            Assert.Contains("plugin.json is not valid JSON", Error("bad-json"));
            Assert.Contains("entry type 'DiceRoller.DoesNotExist' was not found in DiceRoller.dll", Error("no-entry"));
            Assert.Contains("the constructor of 'DiceRoller.DiceRollerSkill' threw SkillPermissionException: Skill 'throws' did not declare the 'storage' permission", Error("throws"));
            Assert.Contains("incompatible plugin: built for skill contract version 2", Error("future"));
            Assert.Contains("unknown permission \"root\"", Error("evil"));
            Assert.Contains("id 'weather' is the id of a built-in skill", Error("clash"));
            Assert.Contains("no plugin.json", Error("empty"));
            Assert.True(Assert.Single(status!.Status, s => s.Folder == "dice").Loaded);

            // Each rejection is logged as an error naming the folder.
            Assert.Contains(skills.Logs.Events, e => e.Level == Microsoft.Extensions.Logging.LogLevel.Error && e.Message.Contains("no-entry"));
        }
        finally
        {
            SkillsHarness.DeleteRoot(root);
        }
    }

    [Fact]
    public async Task Plugin_settings_are_validated_against_its_config_schema()
    {
        string root = SkillsHarness.NewRoot();
        PluginFiles.InstallDice(Path.Combine(root, "plugins"));
        Directory.CreateDirectory(Path.Combine(root, "config", "skills"));
        string configFile = Path.Combine(root, "config", "skills", "dice.json");
        await File.WriteAllTextAsync(configFile, """{ "Settings": { "defaultSides": 1 } }""");
        await using var skills = await SkillsHarness.StartAsync(root);
        try
        {
            Assert.DoesNotContain(skills.Dispatcher.Skills, s => s.Id == "dice");
            var manager = (PluginManager)skills.Services.GetRequiredService<ISkillAdmin>();
            Assert.Contains("setting 'defaultSides' of plugin 'dice' must be at least 2 (is 1)", Assert.Single(manager.Status).Error);

            // Fixing the file and reloading brings the plugin in with the new setting.
            await File.WriteAllTextAsync(configFile, """{ "Settings": { "defaultSides": 20 }, "TimeoutSeconds": 3 }""");
            await manager.ReloadAsync(CancellationToken.None);
            var (_, roll) = await skills.SayAsync("roll a die");
            Assert.StartsWith("🎲 1d20:", roll.Text);
        }
        finally
        {
            SkillsHarness.DeleteRoot(root);
        }
    }

    [Fact]
    public async Task Admin_reload_replaces_a_plugin_with_its_new_version_without_a_restart()
    {
        string root = SkillsHarness.NewRoot();
        string folder = PluginFiles.InstallDice(Path.Combine(root, "plugins"));
        string v2 = await PluginFiles.CompileDiceVersionAsync("2.0.0", Path.Combine(root, "build-v2"));
        await using var skills = await SkillsHarness.StartAsync(root);
        try
        {
            var (_, before) = await skills.SayAsync("roll 1d6");
            Assert.EndsWith("[dice 1.0.0]", before.Text);

            File.Copy(v2, Path.Combine(folder, "DiceRoller.dll"), overwrite: true);
            await skills.Services.GetRequiredService<ISkillAdmin>().ReloadAsync(CancellationToken.None);

            var (_, after) = await skills.SayAsync("roll 1d6");
            Assert.EndsWith("[dice 2.0.0]", after.Text);
            // Same id, same storage: the roll count carried over.
            Assert.Contains("roll number 2", after.Text);

            // The old version's collectible load context goes away once nothing uses it.
            await SkillIsolationTests.WaitUntilAsync(() =>
            {
                GC.Collect();
                GC.WaitForPendingFinalizers();
                return System.Runtime.Loader.AssemblyLoadContext.All.Count(c => c.Name == "plugin:dice") == 1;
            }, seconds: 20);

            // Removing the folder unloads the plugin.
            Directory.Delete(folder, recursive: true);
            await skills.Services.GetRequiredService<ISkillAdmin>().ReloadAsync(CancellationToken.None);
            Assert.DoesNotContain(skills.Dispatcher.Skills, s => s.Id == "dice");
        }
        finally
        {
            SkillsHarness.DeleteRoot(root);
        }
    }

    [Fact]
    public async Task Hot_reload_picks_up_a_new_version_dropped_into_the_folder_and_keeps_the_old_one_if_the_new_one_is_broken()
    {
        string root = SkillsHarness.NewRoot();
        string folder = PluginFiles.InstallDice(Path.Combine(root, "plugins"));
        string v2 = await PluginFiles.CompileDiceVersionAsync("2.0.0", Path.Combine(root, "build-v2"));
        await using var skills = await SkillsHarness.StartAsync(root, new Dictionary<string, string?>
        {
            ["Skills:HotReload"] = "true",
            ["Skills:ReloadDebounceMilliseconds"] = "200",
        });
        try
        {
            var (_, before) = await skills.SayAsync("roll 1d6");
            Assert.EndsWith("[dice 1.0.0]", before.Text);

            // Replace the assembly in place, as an operator would.
            File.Copy(v2, Path.Combine(folder, "DiceRoller.dll"), overwrite: true);
            await SkillIsolationTests.WaitUntilAsync(async () =>
                (await skills.SayAsync("roll 1d6")).Result.Text.EndsWith("[dice 2.0.0]", StringComparison.Ordinal), seconds: 30);

            // A broken update (garbage instead of an assembly) is rejected; version 2 keeps serving.
            await File.WriteAllTextAsync(Path.Combine(folder, "DiceRoller.dll"), "not an assembly");
            var manager = (PluginManager)skills.Services.GetRequiredService<ISkillAdmin>();
            await SkillIsolationTests.WaitUntilAsync(() => manager.Status.Any(s => s.Folder == "dice" && s.Error is not null), seconds: 30);
            Assert.Contains("is not a valid .NET assembly", manager.Status.Single().Error);
            var (_, still) = await skills.SayAsync("roll 1d6");
            Assert.EndsWith("[dice 2.0.0]", still.Text);

            // A new plugin folder appears while running.
            PluginFiles.InstallDice(Path.Combine(root, "plugins"), "dice-copy", PluginFiles.DiceManifest("dice-copy"));
            await SkillIsolationTests.WaitUntilAsync(() => manager.Status.Any(s => s.Folder == "dice-copy"), seconds: 30);
            // Its code says its id is "dice", so it is refused for not matching plugin.json.
            Assert.Contains("Manifest.Id 'dice' differs from plugin.json id 'dice-copy'", manager.Status.Single(s => s.Folder == "dice-copy").Error);
        }
        finally
        {
            SkillsHarness.DeleteRoot(root);
        }
    }
}
