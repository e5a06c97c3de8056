using System.Net;
using Microsoft.Extensions.DependencyInjection;
using MoltBot.Contracts.Memory;
using MoltBot.Contracts.Pipeline;
using MoltBot.Contracts.Skills;

namespace MoltBot.Skills.Dispatch;

/// <summary>
/// Builds the <see cref="SkillHostContext"/> for a skill from what its manifest declares, and nothing more. The HTTP
/// clients share one connection pool; each skill's client is owned by its entry and disposed with it.
/// </summary>
internal sealed class SkillHostFactory(IServiceProvider services, SkillStorageDatabase storage, TimeProvider clock) : IDisposable
{
    private readonly SocketsHttpHandler _handler = new()
    {
        PooledConnectionLifetime = TimeSpan.FromMinutes(5),
        AutomaticDecompression = DecompressionMethods.All,
        ConnectTimeout = TimeSpan.FromSeconds(10),
    };

    /// <summary>The context and the objects the caller owns from now on (dispose them when the skill is retired).</summary>
    public (SkillHostContext Host, IReadOnlyList<IDisposable> Owned) Create(string skillId, IReadOnlyCollection<string> permissions, SkillConfig config, TimeSpan timeout)
    {
        var owned = new List<IDisposable>();
        HttpClient? http = null;
        if (permissions.Contains(SkillPermissions.Network))
        {
            http = new HttpClient(_handler, disposeHandler: false) { Timeout = timeout };
            http.DefaultRequestHeaders.UserAgent.ParseAdd($"MoltBot-skill-{Sanitize(skillId)}/1.0");
            owned.Add(http);
        }
        var host = new SkillHostContext(
            skillId, permissions.ToList(), config.Settings, clock,
            http,
            permissions.Contains(SkillPermissions.Storage) ? storage.For(skillId) : null,
            permissions.Contains(SkillPermissions.Memory) ? services.GetService<IFactMemory>() : null,
            permissions.Contains(SkillPermissions.Proactive) ? services.GetService<IOutboundQueue>() : null);
        return (host, owned);
    }

    private static string Sanitize(string id) => new(id.Where(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.').ToArray());

    public void Dispose() => _handler.Dispose();
}
