using Microsoft.Extensions.Options;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using MoltBot.Contracts.Admin;
using MoltBot.Contracts.Memory;
using MoltBot.Memory.Storage;
using MoltBot.Contracts.Configuration.Validation;

namespace MoltBot.Memory;

public static class MemoryModule
{
    /// <summary>
    /// Registers storage (LiteDB + group commit), the event log, the three memory tiers, vector recall, the admin
    /// ports and the "storage" readiness check. Fact recall needs an ISentenceEmbedder (the inference module).
    /// </summary>
    public static IServiceCollection AddMoltBotMemory(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<MemoryOptions>().Bind(configuration.GetSection(MemoryOptions.Section)).ValidateAnnotationsOnStart<MemoryOptions, MemoryOptionsAnnotations>();
        services.AddSingleton<MemoryDatabase>();
        services.AddSingleton<GroupCommitWriter>();
        services.AddSingleton<DatabaseSyncer>();
        services.AddSingleton<ReplayMark>();
        services.AddSingleton<LogReplay>();
        services.AddSingleton<EventLog>();
        services.AddSingleton<IEventLog>(sp => sp.GetRequiredService<EventLog>());
        services.AddSingleton<ShortTermMemory>();
        services.AddSingleton<IShortTermMemory>(sp => sp.GetRequiredService<ShortTermMemory>());
        services.AddSingleton<VectorMemory>();
        services.AddSingleton<ConversationStore>();
        services.AddSingleton<IConversationStore>(sp => sp.GetRequiredService<ConversationStore>());
        services.AddSingleton<IConversationReader>(sp => sp.GetRequiredService<ConversationStore>());
        services.AddSingleton<ITurnRecorder>(sp => sp.GetRequiredService<ConversationStore>());
        services.AddSingleton<UserProfileStore>();
        services.AddSingleton<IUserProfileStore>(sp => sp.GetRequiredService<UserProfileStore>());
        services.AddSingleton<DialogStateStore>();
        services.AddSingleton<IDialogStateStore>(sp => sp.GetRequiredService<DialogStateStore>());
        services.AddSingleton<IFactMemory, FactMemory>();
        services.AddSingleton<UserDataRights>();
        services.AddSingleton<IUserDataRights>(sp => sp.GetRequiredService<UserDataRights>());
        services.AddHealthChecks().AddCheck<StorageHealthCheck>("storage", tags: ["ready"]);
        services.AddHostedService<MemoryService>();
        return services;
    }
}
