using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace MoltBot.Skills;

public static class SkillsModule
{
    /// <summary>Registers the Skills module's services (called by the host's composition root).</summary>
    public static IServiceCollection AddMoltBotSkills(this IServiceCollection services, IConfiguration configuration)
    {
        return services;
    }
}
