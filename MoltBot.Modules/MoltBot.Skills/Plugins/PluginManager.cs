using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Logging;
using MoltBot.Contracts.Admin;
using MoltBot.Skills.Dispatch;

namespace MoltBot.Skills.Plugins;

/// <summary>What happened to one plugin folder at the last scan.</summary>
public sealed record PluginStatus(string Folder, string? Id, string? Version, bool Loaded, string? Error);

/// <summary>
/// Scans the plugins folder and keeps the registry in step with it: new folders load, changed ones reload (the old
/// version keeps serving if the new one is broken), removed ones unload. Unchanged plugins are left alone, and one
/// bad plugin never stops the others.
/// </summary>
internal sealed class PluginManager(
    string pluginsDirectory, SkillRegistry registry, PluginLoader loader, SkillConfigStore configs, ILogger<PluginManager> logger) : ISkillAdmin
{
    private readonly SemaphoreSlim _reloadLock = new(1, 1);
    private readonly Dictionary<string, (string Fingerprint, string Id)> _loaded = new(StringComparer.Ordinal);
    private volatile IReadOnlyList<PluginStatus> _status = [];

    public string Directory => pluginsDirectory;

    public IReadOnlyList<PluginStatus> Status => _status;

    public async Task ReloadAsync(CancellationToken cancellationToken)
    {
        await _reloadLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            Scan();
        }
        finally
        {
            _reloadLock.Release();
        }
    }

    private void Scan()
    {
        var folders = System.IO.Directory.Exists(pluginsDirectory)
            ? System.IO.Directory.GetDirectories(pluginsDirectory).Order(StringComparer.Ordinal).ToList()
            : [];
        var status = new List<PluginStatus>();
        var claimed = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase); // id → folder

        foreach (var folder in folders)
        {
            string name = Path.GetFileName(folder);
            PluginManifest? manifest = null;
            try
            {
                manifest = PluginLoader.ReadManifest(folder);
                if (registry.IsBuiltIn(manifest.Id))
                    throw new PluginLoadException($"id '{manifest.Id}' is the id of a built-in skill; choose another id.");
                if (claimed.TryGetValue(manifest.Id, out var other))
                    throw new PluginLoadException($"id '{manifest.Id}' is already used by the plugin in '{Path.GetFileName(other)}'.");
                claimed[manifest.Id] = folder;

                var config = configs.Read(manifest.Id);
                string fingerprint = Fingerprint(folder, config);
                if (_loaded.TryGetValue(folder, out var current) && current.Fingerprint == fingerprint && current.Id == manifest.Id)
                {
                    status.Add(new PluginStatus(name, manifest.Id, manifest.Version, true, null));
                    continue;
                }
                if (!config.Enabled)
                {
                    Unload(folder);
                    logger.LogInformation("Plugin {PluginId} in {Folder} is disabled by {ConfigFile}", manifest.Id, name, config.SourceFile);
                    status.Add(new PluginStatus(name, manifest.Id, manifest.Version, false, "disabled by configuration"));
                    continue;
                }

                var entry = loader.Load(folder, manifest, config);
                if (current.Id is not null && current.Id != manifest.Id) registry.RemovePlugin(current.Id);
                registry.SetPlugin(entry);
                _loaded[folder] = (fingerprint, manifest.Id);
                logger.LogInformation("Plugin {PluginId} {Version} loaded from {Folder} (permissions: {Permissions})",
                    manifest.Id, manifest.Version, name, string.Join(",", manifest.Permissions));
                status.Add(new PluginStatus(name, manifest.Id, manifest.Version, true, null));
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                // Anything a plugin does wrong (even an unexpected exception type) rejects that plugin only.
                string reason = ex is PluginLoadException or IOException or UnauthorizedAccessException or MoltBot.Contracts.Configuration.StartupException
                    ? ex.Message
                    : $"{ex.GetType().Name}: {ex.Message}";
                bool keptOld = _loaded.ContainsKey(folder);
                logger.LogError("Plugin in {Folder} rejected: {Reason}{Kept}", name, reason,
                    keptOld ? " (the previously loaded version keeps running)" : "");
                status.Add(new PluginStatus(name, manifest?.Id, manifest?.Version, keptOld, reason));
            }
        }

        foreach (var gone in _loaded.Keys.Where(f => !folders.Contains(f)).ToList())
        {
            logger.LogInformation("Plugin folder {Folder} was removed; unloading {PluginId}", Path.GetFileName(gone), _loaded[gone].Id);
            Unload(gone);
        }
        _status = status;
    }

    private void Unload(string folder)
    {
        if (_loaded.Remove(folder, out var old)) registry.RemovePlugin(old.Id);
    }

    /// <summary>Content hash of every file in the folder plus the plugin's config file: any change means a reload.</summary>
    private static string Fingerprint(string folder, SkillConfig config)
    {
        using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        foreach (var file in System.IO.Directory.GetFiles(folder, "*", SearchOption.AllDirectories).Order(StringComparer.Ordinal))
        {
            sha.AppendData(Encoding.UTF8.GetBytes(Path.GetRelativePath(folder, file)));
            sha.AppendData(File.ReadAllBytes(file));
        }
        sha.AppendData(Encoding.UTF8.GetBytes(config.Fingerprint));
        return Convert.ToHexString(sha.GetHashAndReset());
    }
}
