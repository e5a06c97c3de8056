using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using MoltBot.Contracts.Admin;
using MoltBot.Contracts.Configuration;
using MoltBot.Contracts.Pipeline;
using MoltBot.Contracts.Skills;
using MoltBot.Skills.BuiltIn;
using MoltBot.Skills.Dispatch;
using MoltBot.Skills.Plugins;
using MoltBot.Skills.Reminders;
using MoltBot.Contracts.Configuration.Validation;

namespace MoltBot.Skills;

public static class SkillsModule
{
    /// <summary>
    /// Registers the skill dispatcher (<see cref="ISkillDispatcher"/>), plugin admin (<see cref="ISkillAdmin"/>), the
    /// built-in skills and the reminder scheduler. Needs <see cref="MoltBotPaths"/>, <see cref="TimeProvider"/> and
    /// <see cref="IOutboundQueue"/> from the host; uses <c>IFactMemory</c> when one is registered.
    /// </summary>
    public static IServiceCollection AddMoltBotSkills(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<SkillsOptions>().Bind(configuration.GetSection(SkillsOptions.Section)).ValidateAnnotationsOnStart<SkillsOptions, SkillsOptionsAnnotations>();
        services.AddOptions<WeatherOptions>().Bind(configuration.GetSection(WeatherOptions.Section)).ValidateAnnotationsOnStart<WeatherOptions, WeatherOptionsAnnotations>();
        services.AddOptions<RemindersOptions>().Bind(configuration.GetSection(RemindersOptions.Section)).ValidateAnnotationsOnStart<RemindersOptions, RemindersOptionsAnnotations>();
        services.AddOptions<MemorySkillOptions>().Bind(configuration.GetSection(MemorySkillOptions.Section)).ValidateAnnotationsOnStart<MemorySkillOptions, MemorySkillOptionsAnnotations>();
        services.AddSingleton<SkillsOptionsValidator>();
        services.AddSingleton<IValidateOptions<SkillsOptions>>(sp => sp.GetRequiredService<SkillsOptionsValidator>());
        services.AddSingleton<IValidateOptions<WeatherOptions>>(sp => sp.GetRequiredService<SkillsOptionsValidator>());

        services.AddSingleton(sp => new SkillConfigStore(
            Path.GetFullPath(sp.GetRequiredService<IOptions<SkillsOptions>>().Value.ConfigDirectory, sp.GetRequiredService<MoltBotPaths>().ContentRoot)));
        services.AddSingleton(sp => new SkillStorageDatabase(sp.GetRequiredService<MoltBotPaths>().Data("skills", "storage.db")));
        services.AddSingleton<SkillHostFactory>();
        services.AddSingleton<SkillRegistry>();
        services.AddSingleton<BuiltInSkills>();

        services.AddSingleton(sp => new ReminderStore(sp.GetRequiredService<MoltBotPaths>().Data("skills", "reminders.db")));
        services.AddSingleton<ReminderStoreOpening>();
        services.AddSingleton<IPipelineObserver, ReminderFirstReplyObserver>();
        services.AddSingleton<ReminderScheduler>();

        services.AddSingleton(sp => new PluginLoader(
            sp.GetRequiredService<SkillHostFactory>(), sp.GetRequiredService<SkillConfigStore>(), sp.GetRequiredService<IOptions<SkillsOptions>>().Value));
        services.AddSingleton(sp => new PluginManager(
            Path.GetFullPath(sp.GetRequiredService<IOptions<SkillsOptions>>().Value.PluginsDirectory, sp.GetRequiredService<MoltBotPaths>().ContentRoot),
            sp.GetRequiredService<SkillRegistry>(), sp.GetRequiredService<PluginLoader>(), sp.GetRequiredService<SkillConfigStore>(),
            sp.GetRequiredService<ILogger<PluginManager>>()));
        services.AddSingleton<ISkillAdmin>(sp => sp.GetRequiredService<PluginManager>());
        services.AddSingleton<ISkillDispatcher, SkillDispatcher>();

        // Registry and plugins before the scheduler, so a reminder never fires before the skills are up.
        services.AddHostedService<SkillsService>();
        services.AddHostedService(sp => sp.GetRequiredService<ReminderStoreOpening>());
        services.AddHostedService(sp => sp.GetRequiredService<ReminderScheduler>());
        return services;
    }
}
