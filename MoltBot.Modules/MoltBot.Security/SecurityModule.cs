using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using MoltBot.Contracts.Configuration;
using MoltBot.Contracts.Pipeline;
using MoltBot.Contracts.Security;
using MoltBot.Security.Admin;
using MoltBot.Security.Audit;
using MoltBot.Security.Pii;
using MoltBot.Security.Tls;

namespace MoltBot.Security;

public static class SecurityModule
{
    /// <summary>
    /// Registers TLS policy, PII masking (inbound and outbound filters, encrypted vaults), the hash-chained audit
    /// log, API keys and the admin API's guard. Called first by the host, so masking is the first inbound filter.
    /// </summary>
    public static IServiceCollection AddMoltBotSecurity(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<SecurityOptions>().Bind(configuration.GetSection(SecurityOptions.Section))
            .PostConfigure(o =>
            {
                // No config/roles.json in this content root: use the shipped matrix rather than refuse to start.
                if (o.Roles.Count == 0) o.Roles = AdminPermissions.DefaultRoles();
            })
            .ValidateOnStart();
        services.AddSingleton<IValidateOptions<SecurityOptions>, SecurityOptionsValidator>();
        services.AddMoltBotTls();

        services.AddSingleton(sp =>
        {
            var o = sp.GetRequiredService<IOptions<SecurityOptions>>().Value;
            var paths = sp.GetRequiredService<MoltBotPaths>();
            return new PiiVaultStore(VaultKey.Load(o, paths), paths.Data("security", "vault"), o.Vault.CacheSize,
                sp.GetRequiredService<ILogger<PiiVaultStore>>());
        });
        services.AddSingleton<PiiMasker>();
        services.TryAddSingleton<IPiiMasker>(sp => sp.GetRequiredService<PiiMasker>());
        services.AddSingleton<IInboundFilter, PiiInboundFilter>();
        services.AddSingleton<IOutboundFilter, PiiOutboundFilter>();
        services.AddHostedService<SecurityStartupCheck>();

        services.AddSingleton(sp =>
        {
            var o = sp.GetRequiredService<IOptions<SecurityOptions>>().Value;
            return new AuditLog(AuditLog.PathFrom(o, sp.GetRequiredService<MoltBotPaths>()), o.Audit.QueueCapacity,
                sp.GetRequiredService<TimeProvider>(), sp.GetRequiredService<ILogger<AuditLog>>(), TimeSpan.FromMilliseconds(o.Audit.SyncMilliseconds));
        });
        services.TryAddSingleton<IAuditLog>(sp => sp.GetRequiredService<AuditLog>());
        services.AddHostedService(sp => sp.GetRequiredService<AuditLog>());

        services.AddSingleton(sp =>
        {
            var o = sp.GetRequiredService<IOptions<SecurityOptions>>().Value;
            return new ApiKeyStore(ApiKeyPath(o, sp.GetRequiredService<MoltBotPaths>()), o.ApiKeys.Pbkdf2Iterations, sp.GetRequiredService<TimeProvider>());
        });
        services.AddSingleton<FailedAuthLimiter>();
        return services;
    }

    /// <summary>Maps the admin API (/admin/...).</summary>
    public static IEndpointRouteBuilder MapMoltBotSecurity(this IEndpointRouteBuilder endpoints)
    {
        return endpoints.MapAdminApi();
    }

    public static string ApiKeyPath(SecurityOptions options, MoltBotPaths paths) => paths.Data(options.ApiKeys.File);
}
