using Microsoft.Extensions.Logging.Abstractions;
using MoltBot.Contracts.Configuration;
using MoltBot.Hosting;
using MoltBot.Security;
using MoltBot.Security.Audit;

namespace MoltBot.Cli;

/// <summary>
/// What the security verbs (audit, apikey, cert) need without starting the server: the same configuration
/// sources as `run` (so --Storage:DataDirectory and MOLTBOT__ variables apply), the data paths and the validated
/// Security section.
/// </summary>
internal sealed record SecurityCliContext(MoltBotPaths Paths, SecurityOptions Security)
{
    public static SecurityCliContext Load(string[] configArgs)
    {
        string contentRoot = ContentRoot();
        var configuration = new ConfigurationManager();
        ConfigurationSetup.Apply(configuration, contentRoot, Environment.GetEnvironmentVariable("ASPNETCORE_ENVIRONMENT") ?? "Production", configArgs);
        var storage = new StorageOptions();
        configuration.GetSection(StorageOptions.Section).Bind(storage);
        var models = new ModelsOptions();
        configuration.GetSection(ModelsOptions.Section).Bind(models);
        var security = new SecurityOptions();
        configuration.GetSection(SecurityOptions.Section).Bind(security);
        if (security.Roles.Count == 0) security.Roles = AdminPermissions.DefaultRoles();
        var result = new SecurityOptionsValidator().Validate(null, security);
        if (result.Failed) throw new StartupException("configuration error: " + string.Join(" ", result.Failures));
        return new SecurityCliContext(MoltBotPaths.Resolve(contentRoot, storage, models), security);
    }

    public string AuditPath => AuditLog.PathFrom(Security, Paths);

    /// <summary>Records a CLI admin operation in the audit log (actor "cli:{user}", role "admin": whoever holds the data directory).</summary>
    public async Task AuditAsync(string action, string target, string outcome, CancellationToken cancellationToken)
    {
        await using var audit = new AuditLog(AuditPath, 16, TimeProvider.System, NullLogger<AuditLog>.Instance);
        await audit.AppendAsync(new Contracts.Security.AuditEntry("cli:" + Environment.UserName, "admin", action, target) { Outcome = outcome }, cancellationToken);
    }

    /// <summary>Same rule as the server: the nearest folder with appsettings.json, else the binary's folder.</summary>
    private static string ContentRoot()
    {
        for (var dir = new DirectoryInfo(Directory.GetCurrentDirectory()); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "appsettings.json"))) return dir.FullName;
        }
        return AppContext.BaseDirectory;
    }
}
