using System.Reflection;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using MoltBot.Contracts.Admin;
using MoltBot.Contracts.Configuration;
using MoltBot.Contracts.Skills;
using MoltBot.Security.Audit;
using MoltBot.Security.Pii;

namespace MoltBot.Security.Admin;

/// <summary>
/// The admin API under /admin. Each endpoint names its permission (<see cref="RequiresPermission"/>); the
/// <see cref="AdminAuthFilter"/> on the group enforces it. Ports other modules implement are optional: without
/// one the endpoint answers 503 "not available in this build".
/// </summary>
public static class AdminEndpoints
{
    public static IEndpointRouteBuilder MapAdminApi(this IEndpointRouteBuilder endpoints)
    {
        var admin = endpoints.MapGroup("/admin").AddEndpointFilter<AdminAuthFilter>();

        admin.MapGet("/status", Status).Rule("admin.status", AdminPermissions.StatusRead);

        admin.MapGet("/channels", (IServiceProvider sp) =>
            sp.GetService<IChannelAdmin>() is { } channels ? Results.Ok(channels.List()) : AdminResults.NotAvailable(nameof(IChannelAdmin)))
            .Rule("admin.channels.list", AdminPermissions.ChannelsRead);
        admin.MapPost("/channels/{platform}/enable", (string platform, IServiceProvider sp, CancellationToken ct) => SetChannel(sp, platform, true, ct))
            .Rule("admin.channels.enable", AdminPermissions.ChannelsWrite);
        admin.MapPost("/channels/{platform}/disable", (string platform, IServiceProvider sp, CancellationToken ct) => SetChannel(sp, platform, false, ct))
            .Rule("admin.channels.disable", AdminPermissions.ChannelsWrite);

        admin.MapGet("/skills", (IEnumerable<ISkill> skills) =>
            Results.Ok(skills.Select(s => new { s.Manifest.Id, s.Manifest.Version, s.Manifest.Description, s.Manifest.Permissions })))
            .Rule("admin.skills.list", AdminPermissions.SkillsRead);
        admin.MapPost("/skills/reload", async (IServiceProvider sp, CancellationToken ct) =>
        {
            if (sp.GetService<ISkillAdmin>() is not { } skills) return AdminResults.NotAvailable(nameof(ISkillAdmin));
            await skills.ReloadAsync(ct);
            return Results.Ok(new { reloaded = "skills" });
        }).Rule("admin.skills.reload", AdminPermissions.SkillsWrite);

        admin.MapGet("/models", (MoltBotPaths paths) => Results.Ok(ListModels(paths)))
            .Rule("admin.models.list", AdminPermissions.ModelsRead);
        admin.MapPost("/models/reload", async (IServiceProvider sp, CancellationToken ct) =>
        {
            if (sp.GetService<IModelAdmin>() is not { } models) return AdminResults.NotAvailable(nameof(IModelAdmin));
            await models.ReloadAsync(ct);
            return Results.Ok(new { reloaded = "models" });
        }).Rule("admin.models.reload", AdminPermissions.ModelsWrite);

        admin.MapGet("/conversations", async (IServiceProvider sp, int? skip, int? take, CancellationToken ct) =>
        {
            if (sp.GetService<IConversationReader>() is not { } reader) return AdminResults.NotAvailable(nameof(IConversationReader));
            if (skip < 0 || take is < 1 or > 1000) return AdminResults.Error(400, "skip must be ≥ 0 and take 1..1000");
            return Results.Ok(await reader.ListAsync(skip ?? 0, take ?? 100, ct));
        }).Rule("admin.conversations.list", AdminPermissions.ConversationsRead);
        admin.MapGet("/conversations/{conversationKey}/messages", async (string conversationKey, int? take, IServiceProvider sp, CancellationToken ct) =>
        {
            if (sp.GetService<IConversationReader>() is not { } reader) return AdminResults.NotAvailable(nameof(IConversationReader));
            if (take is < 1 or > 10_000) return AdminResults.Error(400, "take must be 1..10000");
            var messages = await reader.MessagesAsync(conversationKey, take ?? 100, ct);
            // Stored texts are already masked; masking again catches anything stored before masking was enabled.
            return Results.Ok(messages.Select(m => m with { Text = PiiMasker.MaskAnonymous(m.Text) }));
        }).Rule("admin.conversations.view", AdminPermissions.ConversationsRead);

        admin.MapGet("/users/{userKey}/export", async (string userKey, IServiceProvider sp, CancellationToken ct) =>
            sp.GetService<IUserDataRights>() is { } rights
                ? Results.Content(await rights.ExportJsonAsync(userKey, ct), "application/json; charset=utf-8")
                : AdminResults.NotAvailable(nameof(IUserDataRights)))
            .Rule("admin.users.export", AdminPermissions.UsersExport);
        admin.MapDelete("/users/{userKey}", async (string userKey, IServiceProvider sp, PiiVaultStore vaults, CancellationToken ct) =>
        {
            if (sp.GetService<IUserDataRights>() is not { } rights) return AdminResults.NotAvailable(nameof(IUserDataRights));
            // The PII vaults of the user's conversations hold the original values: erase them too (before the
            // memory module forgets which conversations were the user's).
            int vaultsRemoved = 0;
            if (sp.GetService<IConversationReader>() is { } reader)
            {
                for (int skip = 0; ; skip += 500)
                {
                    var page = await reader.ListAsync(skip, 500, ct);
                    foreach (var c in page.Where(c => c.UserKey == userKey))
                        if (vaults.Delete(c.ConversationKey)) vaultsRemoved++;
                    if (page.Count < 500) break;
                }
            }
            return Results.Ok(new { userKey, removed = await rights.DeleteAsync(userKey, ct), vaultsRemoved });
        }).Rule("admin.users.delete", AdminPermissions.UsersDelete);

        admin.MapGet("/api-keys", async (ApiKeyStore keys, CancellationToken ct) =>
            Results.Ok((await keys.ListAsync(ct)).Select(k => new { k.Id, k.Name, k.Role, k.CreatedMs, k.CreatedBy, k.RevokedMs, k.Active })))
            .Rule("admin.apikeys.list", AdminPermissions.ApiKeysRead);
        // The body is optional for binding so that a caller without a key gets 401 (from the filter), not a binding 400.
        admin.MapPost("/api-keys", async (CreateApiKeyRequest? body, ApiKeyStore keys, IOptions<SecurityOptions> options, HttpContext http, CancellationToken ct) =>
        {
            if (body is null || string.IsNullOrWhiteSpace(body.Role) || !options.Value.Roles.ContainsKey(body.Role))
                return AdminResults.Error(400, $"role must be one of {string.Join(", ", options.Value.Roles.Keys)}");
            var who = (AdminPrincipal)http.Items[AdminAuthFilter.PrincipalItem]!;
            var created = await keys.CreateAsync(body.Role, body.Name ?? "", "apikey:" + who.KeyId, ct);
            return Results.Json(new { created.Record.Id, created.Record.Role, created.Record.Name, key = created.Key,
                note = "the key is shown only once; store it now" }, statusCode: 201);
        }).Rule("admin.apikeys.create", AdminPermissions.ApiKeysWrite);
        admin.MapDelete("/api-keys/{id}", async (string id, ApiKeyStore keys, CancellationToken ct) =>
            await keys.RevokeAsync(id, ct) ? Results.Ok(new { revoked = id }) : AdminResults.Error(404, $"no active API key with id '{id}'"))
            .Rule("admin.apikeys.revoke", AdminPermissions.ApiKeysWrite);

        admin.MapGet("/audit", async (long? from, long? to, int? take, AuditLog audit, CancellationToken ct) =>
        {
            if (take is < 1 or > 10_000) return AdminResults.Error(400, "take must be 1..10000");
            return Results.Ok(await AuditVerifier.ReadAsync(audit.FilePath, from ?? 0, to ?? long.MaxValue, take ?? 100, ct));
        }).Rule("admin.audit.list", AdminPermissions.AuditRead);
        admin.MapGet("/audit/verify", async (AuditLog audit, CancellationToken ct) =>
            Results.Ok(await AuditVerifier.VerifyAsync(audit.FilePath, ct)))
            .Rule("admin.audit.verify", AdminPermissions.AuditRead);

        return endpoints;
    }

    private static RouteHandlerBuilder Rule(this RouteHandlerBuilder builder, string name, string permission) =>
        builder.WithName(name).WithMetadata(new RequiresPermission(permission));

    private static IResult Status(IServiceProvider sp, TimeProvider clock)
    {
        bool Has<T>() => sp.GetService(typeof(T)) is not null;
        return Results.Ok(new
        {
            version = typeof(AdminEndpoints).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion,
            timeMs = clock.GetUtcNow().ToUnixTimeMilliseconds(),
            uptimeSeconds = (int)(DateTime.UtcNow - System.Diagnostics.Process.GetCurrentProcess().StartTime.ToUniversalTime()).TotalSeconds,
            ports = new
            {
                channels = Has<IChannelAdmin>(),
                skills = Has<ISkillAdmin>(),
                models = Has<IModelAdmin>(),
                conversations = Has<IConversationReader>(),
                userData = Has<IUserDataRights>(),
            },
            channels = sp.GetService<IChannelAdmin>()?.List(),
        });
    }

    private static async Task<IResult> SetChannel(IServiceProvider sp, string platform, bool enabled, CancellationToken ct)
    {
        if (sp.GetService<IChannelAdmin>() is not { } channels) return AdminResults.NotAvailable(nameof(IChannelAdmin));
        return await channels.SetEnabledAsync(platform, enabled, ct)
            ? Results.Ok(new { platform, enabled })
            : AdminResults.Error(404, $"unknown platform '{platform}'");
    }

    private static IEnumerable<object> ListModels(MoltBotPaths paths) =>
        Directory.Exists(paths.ModelsDirectory)
            ? new DirectoryInfo(paths.ModelsDirectory).GetDirectories().OrderBy(d => d.Name, StringComparer.Ordinal)
                .Select(d => (object)new { name = d.Name, files = d.GetFiles().Length, sizeBytes = d.GetFiles().Sum(f => f.Length) })
            : [];
}

public sealed record CreateApiKeyRequest(string? Role, string? Name);
