using System.Reflection;
using MoltBot.Contracts.Skills;
using MoltBot.Skills.Dispatch;

namespace MoltBot.Skills.Plugins;

/// <summary>Loads one plugin folder into its own load context and creates its skill, or says exactly why not.</summary>
internal sealed class PluginLoader(SkillHostFactory hosts, SkillConfigStore configs, SkillsOptions options)
{
    private static readonly Version HostContracts = typeof(ISkill).Assembly.GetName().Version ?? new Version(1, 0);

    /// <summary>Reads plugin.json (no plugin code runs); throws <see cref="PluginLoadException"/>.</summary>
    public static PluginManifest ReadManifest(string directory)
    {
        string file = Path.Combine(directory, "plugin.json");
        if (!File.Exists(file)) throw new PluginLoadException("no plugin.json in the folder.");
        return PluginManifest.Parse(File.ReadAllText(file));
    }

    /// <summary>Creates the skill entry; on any failure the load context is unloaded and a PluginLoadException says why.</summary>
    public SkillEntry Load(string directory, PluginManifest manifest, SkillConfig config)
    {
        string dll = Path.Combine(directory, manifest.Assembly);
        if (!File.Exists(dll)) throw new PluginLoadException($"assembly '{manifest.Assembly}' named in plugin.json is not in the folder.");
        var settings = ConfigSchema.Apply(manifest.ConfigSchema, config.Settings, manifest.Id, config.SourceFile ?? Path.Combine(configs.Directory, manifest.Id + ".json"));

        var context = new PluginLoadContext(directory, manifest.Id);
        var owned = new List<IDisposable>();
        try
        {
            Assembly assembly;
            try
            {
                assembly = context.LoadMain(manifest.Assembly);
            }
            catch (BadImageFormatException ex)
            {
                throw new PluginLoadException($"'{manifest.Assembly}' is not a valid .NET assembly: {ex.Message}", ex);
            }
            CheckContractsReference(assembly, manifest);

            Type? type;
            try
            {
                type = assembly.GetType(manifest.EntryType, throwOnError: false);
            }
            catch (Exception ex) when (ex is FileNotFoundException or FileLoadException or TypeLoadException)
            {
                throw new PluginLoadException($"entry type '{manifest.EntryType}' cannot be loaded: {ex.Message}", ex);
            }
            if (type is null) throw new PluginLoadException($"entry type '{manifest.EntryType}' was not found in {manifest.Assembly}.");
            if (!typeof(ISkill).IsAssignableFrom(type) || type.IsAbstract || type.IsInterface)
                throw new PluginLoadException($"entry type '{manifest.EntryType}' must be a concrete class implementing {typeof(ISkill).FullName}.");

            var timeout = TimeSpan.FromSeconds(config.TimeoutSeconds ?? options.DefaultTimeoutSeconds);
            var (host, hostOwned) = hosts.Create(manifest.Id, manifest.Permissions, config with { Settings = settings }, timeout);
            owned.AddRange(hostOwned);
            var skill = Construct(type, host, manifest);

            SkillManifest declared;
            try
            {
                declared = skill.Manifest ?? throw new PluginLoadException($"entry type '{manifest.EntryType}' returned no Manifest.");
            }
            catch (Exception ex) when (ex is not PluginLoadException)
            {
                throw new PluginLoadException($"reading the Manifest of '{manifest.EntryType}' threw {ex.GetType().Name}: {ex.Message}", ex);
            }
            if (!string.Equals(declared.Id, manifest.Id, StringComparison.Ordinal))
                throw new PluginLoadException($"the skill's Manifest.Id '{declared.Id}' differs from plugin.json id '{manifest.Id}'.");
            // plugin.json is what the operator reviews: its version and permissions are the ones that count.
            var effective = declared with { Version = manifest.Version, Permissions = manifest.Permissions };

            SkillEntry entry;
            try
            {
                entry = new SkillEntry(skill, effective, "plugin:" + directory, timeout,
                    config.MaxConcurrency ?? options.DefaultMaxConcurrency, owned, context.Unload);
            }
            catch (ArgumentException ex)
            {
                throw new PluginLoadException(ex.Message, ex);
            }
            return entry;
        }
        catch
        {
            foreach (var o in owned) o.Dispose();
            context.Unload();
            throw;
        }
    }

    private static ISkill Construct(Type type, SkillHostContext host, PluginManifest manifest)
    {
        var withHost = type.GetConstructor([typeof(SkillHostContext)]);
        var parameterless = type.GetConstructor(Type.EmptyTypes);
        if (withHost is null && parameterless is null)
            throw new PluginLoadException($"entry type '{manifest.EntryType}' needs a public constructor taking SkillHostContext, or a parameterless one.");
        try
        {
            return (ISkill)(withHost is not null ? withHost.Invoke([host]) : parameterless!.Invoke([]));
        }
        catch (TargetInvocationException ex) when (ex.InnerException is { } inner)
        {
            throw new PluginLoadException($"the constructor of '{manifest.EntryType}' threw {inner.GetType().Name}: {inner.Message}", inner);
        }
    }

    private static void CheckContractsReference(Assembly assembly, PluginManifest manifest)
    {
        var reference = assembly.GetReferencedAssemblies().FirstOrDefault(r => r.Name == "MoltBot.Contracts");
        if (reference is null)
            throw new PluginLoadException($"{manifest.Assembly} does not reference MoltBot.Contracts, so it cannot contain a skill.");
        if (reference.Version is { } v && v.Major != HostContracts.Major)
            throw new PluginLoadException($"incompatible plugin: {manifest.Assembly} was built against MoltBot.Contracts {v}, this MoltBot has {HostContracts}.");
    }
}
