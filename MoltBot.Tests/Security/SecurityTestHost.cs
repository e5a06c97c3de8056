using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.AspNetCore.Builder;
using MoltBot.Contracts.Admin;
using MoltBot.Security.Admin;

namespace MoltBot.Tests.Security;

/// <summary>A TestHost whose content root carries the repository's config/roles.json, optionally with the admin-port fakes.</summary>
public static class SecurityTestHost
{
    public static async Task<TestHost> StartAsync(IDictionary<string, string>? settings = null, bool withPorts = true, Action<WebApplicationBuilder>? configure = null)
    {
        string root = Directory.CreateTempSubdirectory("moltbot-sec").FullName;
        Directory.CreateDirectory(Path.Combine(root, "config"));
        File.Copy(Path.Combine(RepoRoot.Path, "config", "roles.json"), Path.Combine(root, "config", "roles.json"));
        var all = new Dictionary<string, string> { ["Security:ApiKeys:Pbkdf2Iterations"] = "100000" };
        foreach (var (k, v) in settings ?? new Dictionary<string, string>()) all[k] = v;
        return await TestHost.StartAsync(all, builder =>
        {
            if (withPorts)
            {
                builder.Services.AddSingleton<IChannelAdmin, FakeChannelAdmin>();
                builder.Services.AddSingleton<ISkillAdmin, FakeSkillAdmin>();
                builder.Services.AddSingleton<IModelAdmin, FakeModelAdmin>();
                builder.Services.AddSingleton<IConversationReader, FakeConversationReader>();
                builder.Services.AddSingleton<IUserDataRights, FakeUserDataRights>();
            }
            else
            {
                // The real modules register these ports; take them out to see the build without them.
                builder.Services.RemoveAll<IChannelAdmin>();
                builder.Services.RemoveAll<ISkillAdmin>();
                builder.Services.RemoveAll<IModelAdmin>();
                builder.Services.RemoveAll<IConversationReader>();
                builder.Services.RemoveAll<IUserDataRights>();
            }
            configure?.Invoke(builder);
        }, root);
    }

    public static async Task<string> CreateKeyAsync(TestHost host, string role) =>
        (await host.Services.GetRequiredService<ApiKeyStore>().CreateAsync(role, "test " + role, "test", default)).Key;
}
