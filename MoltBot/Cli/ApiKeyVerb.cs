using System.CommandLine;
using MoltBot.Hosting;
using MoltBot.Security;
using MoltBot.Security.Admin;

namespace MoltBot.Cli;

/// <summary>
/// `apikey create --role admin` (also how the first admin key comes to exist), `apikey revoke ID`, `apikey list`.
/// Works on the data directory directly, so it needs no running server and no key; a running server sees changes.
/// </summary>
public static class ApiKeyVerb
{
    public static Command Create()
    {
        var apikey = new Command("apikey", "Create, revoke and list admin API keys (stored hashed in data/security/api-keys.json).");

        var role = new Option<string>("--role") { Description = "admin, operator, viewer or auditor (roles from config/roles.json).", Required = true };
        var name = new Option<string?>("--name") { Description = "A label, e.g. who the key is for." };
        var create = new Command("create", "Create a key and print it once.") { TreatUnmatchedTokensAsErrors = false };
        create.Options.Add(role);
        create.Options.Add(name);
        create.SetAction((parse, ct) => StartupErrors.GuardAsync(async () =>
        {
            var context = SecurityCliContext.Load(parse.UnmatchedTokens.ToArray());
            string r = parse.GetValue(role)!;
            if (!context.Security.Roles.ContainsKey(r))
            {
                await Console.Error.WriteLineAsync($"moltbot: unknown role '{r}'; use one of {string.Join(", ", context.Security.Roles.Keys)}.");
                return 2;
            }
            var created = await Store(context).CreateAsync(r, parse.GetValue(name) ?? "", "cli:" + Environment.UserName, ct);
            await context.AuditAsync("cli.apikeys.create", "id=" + created.Record.Id, "created role " + r, ct);
            Console.WriteLine($"id:   {created.Record.Id}");
            Console.WriteLine($"role: {created.Record.Role}");
            Console.WriteLine($"key:  {created.Key}");
            Console.WriteLine("This key is shown only once. Use it as: Authorization: Bearer <key>");
            return 0;
        }));

        var id = new Argument<string>("id") { Description = "The key id (the 8 hex characters after mb_)." };
        var revoke = new Command("revoke", "Revoke a key: it stops working at once, also on a running server.") { TreatUnmatchedTokensAsErrors = false };
        revoke.Arguments.Add(id);
        revoke.SetAction((parse, ct) => StartupErrors.GuardAsync(async () =>
        {
            var context = SecurityCliContext.Load(parse.UnmatchedTokens.ToArray());
            string keyId = parse.GetValue(id)!;
            bool revoked = await Store(context).RevokeAsync(keyId, ct);
            await context.AuditAsync("cli.apikeys.revoke", "id=" + keyId, revoked ? "revoked" : "not found", ct);
            if (!revoked)
            {
                await Console.Error.WriteLineAsync($"moltbot: no active API key with id '{keyId}'.");
                return 1;
            }
            Console.WriteLine($"revoked {keyId}");
            return 0;
        }));

        var list = new Command("list", "List keys (id, role, name, created, revoked); never the keys themselves.") { TreatUnmatchedTokensAsErrors = false };
        list.SetAction((parse, ct) => StartupErrors.GuardAsync(async () =>
        {
            var context = SecurityCliContext.Load(parse.UnmatchedTokens.ToArray());
            foreach (var k in await Store(context).ListAsync(ct))
            {
                string created = DateTimeOffset.FromUnixTimeMilliseconds(k.CreatedMs).ToString("u");
                string state = k.RevokedMs is { } r ? "revoked " + DateTimeOffset.FromUnixTimeMilliseconds(r).ToString("u") : "active";
                Console.WriteLine($"{k.Id}  {k.Role,-8}  {created}  {state}  {k.Name}");
            }
            return 0;
        }));

        apikey.Subcommands.Add(create);
        apikey.Subcommands.Add(revoke);
        apikey.Subcommands.Add(list);
        return apikey;
    }

    private static ApiKeyStore Store(SecurityCliContext context) =>
        new(SecurityModule.ApiKeyPath(context.Security, context.Paths), context.Security.ApiKeys.Pbkdf2Iterations, TimeProvider.System);
}
