using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using MoltBot.Contracts.Configuration;
using MoltBot.Skills.BuiltIn;
using MoltBot.Skills.Dispatch;
using MoltBot.Skills.Plugins;

namespace MoltBot.Skills;

/// <summary>
/// Start-up of the skills module: checks config/skills/*.json (a bad file stops start-up with one line), registers
/// the built-in skills, loads the plugins, and watches both folders for hot reload.
/// </summary>
internal sealed class SkillsService(
    SkillConfigStore configs, BuiltInSkills builtIns, SkillRegistry registry, PluginManager plugins,
    IOptions<SkillsOptions> options, ILogger<SkillsService> logger) : IHostedService, IDisposable
{
    private PluginWatcher? _watcher;

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        var errors = configs.ValidateAll();
        if (errors.Count > 0) throw new StartupException(string.Join(" ", errors));

        registry.SetBuiltIns(builtIns.Create());
        if (options.Value.HotReload) Directory.CreateDirectory(plugins.Directory);
        await plugins.ReloadAsync(cancellationToken).ConfigureAwait(false);
        logger.LogInformation("Skills ready: {Skills}; plugins folder {PluginsDirectory}",
            string.Join(", ", registry.Entries.Select(e => $"{e.Id} {e.Manifest.Version}")), plugins.Directory);

        if (options.Value.HotReload)
        {
            _watcher = new PluginWatcher([plugins.Directory, configs.Directory],
                TimeSpan.FromMilliseconds(options.Value.ReloadDebounceMilliseconds),
                () => plugins.ReloadAsync(CancellationToken.None), logger);
        }
    }

    public Task StopAsync(CancellationToken cancellationToken)
    {
        _watcher?.Dispose();
        _watcher = null;
        return Task.CompletedTask;
    }

    public void Dispose() => _watcher?.Dispose();
}
