using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using MoltBot.Contracts.Skills;
using MoltBot.Skills.Dispatch;
using MoltBot.Skills.Reminders;
using MoltBot.Skills.Weather;

namespace MoltBot.Skills.BuiltIn;

/// <summary>
/// Creates the built-in skills (time, weather, reminders, memory, help) with the same capability rules as plugins:
/// each gets a <see cref="SkillHostContext"/> holding only what its manifest declares, and its budget from
/// config/skills/&lt;id&gt;.json.
/// </summary>
internal sealed class BuiltInSkills(
    IServiceProvider services, SkillHostFactory hosts, SkillConfigStore configs, SkillRegistry registry,
    IOptions<SkillsOptions> skills, IOptions<WeatherOptions> weather, IOptions<RemindersOptions> reminders,
    IOptions<MemorySkillOptions> memory, TimeProvider clock, ILoggerFactory loggers)
{
    private readonly ILogger _logger = loggers.CreateLogger<BuiltInSkills>();

    public IReadOnlyList<SkillEntry> Create()
    {
        var entries = new List<SkillEntry>();
        // Time and help only compute (no I/O): they start on the caller's thread (see SkillEntry.RunsInline).
        Add(entries, TimeSkill.Id, [], _ => new TimeSkill(clock, skills.Value), runsInline: true);
        Add(entries, WeatherSkill.Id, [SkillPermissions.Network], host =>
        {
            // A provider registered by the host (another weather service) wins over the Open-Meteo default.
            var provider = services.GetService<IWeatherProvider>() ?? new OpenMeteoWeatherProvider(host.Http, weather.Value);
            return new WeatherSkill(provider, weather.Value, loggers.CreateLogger<WeatherSkill>());
        });
        Add(entries, ReminderSkill.Id, [SkillPermissions.Storage, SkillPermissions.Proactive], _ => new ReminderSkill(
            services.GetRequiredService<ReminderStore>(), services.GetRequiredService<ReminderScheduler>(), clock, skills.Value, reminders.Value));
        Add(entries, MemorySkill.Id, [SkillPermissions.Memory], host =>
        {
            if (!host.Has(SkillPermissions.Memory))
            {
                _logger.LogWarning("No fact memory (IFactMemory) is registered; the memory skill is off");
                return null;
            }
            return new MemorySkill(host.Memory, memory.Value);
        });
        Add(entries, HelpSkill.Id, [], _ => new HelpSkill(() => registry.Manifests), runsInline: true);

        // Skills the host registered in DI (trusted, in-process code) get the same budget and containment.
        foreach (var skill in services.GetServices<ISkill>())
        {
            var manifest = skill.Manifest;
            if (entries.Any(e => string.Equals(e.Id, manifest.Id, StringComparison.OrdinalIgnoreCase)))
                throw new MoltBot.Contracts.Configuration.StartupException($"Two skills use the id '{manifest.Id}'; skill ids must be unique.");
            var config = configs.Read(manifest.Id);
            if (!config.Enabled) continue;
            entries.Add(new SkillEntry(skill, manifest, "host", TimeSpan.FromSeconds(config.TimeoutSeconds ?? skills.Value.DefaultTimeoutSeconds),
                config.MaxConcurrency ?? skills.Value.DefaultMaxConcurrency, ownsSkill: false)); // the container disposes it
        }
        return entries;
    }

    private void Add(List<SkillEntry> entries, string id, string[] permissions, Func<SkillHostContext, ISkill?> create, bool runsInline = false)
    {
        var config = configs.Read(id);
        if (!config.Enabled)
        {
            _logger.LogInformation("Built-in skill {SkillId} is disabled by {ConfigFile}", id, config.SourceFile);
            return;
        }
        var timeout = TimeSpan.FromSeconds(config.TimeoutSeconds ?? skills.Value.DefaultTimeoutSeconds);
        var (host, owned) = hosts.Create(id, permissions, config, timeout);
        var skill = create(host);
        if (skill is null)
        {
            foreach (var o in owned) o.Dispose();
            return;
        }
        // The manifest must declare exactly what the skill was given.
        if (!skill.Manifest.Permissions.Order().SequenceEqual(permissions.Order()))
            throw new InvalidOperationException($"built-in skill '{id}' declares permissions [{string.Join(",", skill.Manifest.Permissions)}] but was created with [{string.Join(",", permissions)}]");
        entries.Add(new SkillEntry(skill, skill.Manifest, "built-in", timeout, config.MaxConcurrency ?? skills.Value.DefaultMaxConcurrency, owned)
        {
            RunsInline = runsInline,
        });
    }
}
