using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Options;
using MoltBot.Security;
using MoltBot.Security.Admin;
using MoltBot.Security.Audit;

namespace MoltBot.Tests.Security;

public class AdminRbacTests
{
    /// <summary>The matrix as shipped in config/roles.json (role → permissions).</summary>
    private static Dictionary<string, string[]> Matrix()
    {
        using var doc = JsonDocument.Parse(File.ReadAllText(Path.Combine(RepoRoot.Path, "config", "roles.json")));
        return doc.RootElement.GetProperty("Security").GetProperty("Roles").EnumerateObject()
            .ToDictionary(p => p.Name, p => p.Value.EnumerateArray().Select(v => v.GetString()!).ToArray());
    }

    /// <summary>
    /// A valid request for each admin endpoint ("METHOD pattern"). A new /admin endpoint without an entry here fails
    /// <see cref="Every_endpoint_by_every_role_gets_exactly_what_the_matrix_allows"/>.
    /// </summary>
    private static readonly Dictionary<string, Func<TestHost, Task<HttpRequestMessage>>> Samples = new()
    {
        ["GET /admin/status"] = _ => Get("/admin/status"),
        ["GET /admin/channels"] = _ => Get("/admin/channels"),
        ["POST /admin/channels/{platform}/enable"] = _ => Send(HttpMethod.Post, "/admin/channels/telegram/enable"),
        ["POST /admin/channels/{platform}/disable"] = _ => Send(HttpMethod.Post, "/admin/channels/telegram/disable"),
        ["GET /admin/skills"] = _ => Get("/admin/skills"),
        ["POST /admin/skills/reload"] = _ => Send(HttpMethod.Post, "/admin/skills/reload"),
        ["GET /admin/models"] = _ => Get("/admin/models"),
        ["POST /admin/models/reload"] = _ => Send(HttpMethod.Post, "/admin/models/reload"),
        ["GET /admin/conversations"] = _ => Get("/admin/conversations?skip=0&take=10"),
        ["GET /admin/conversations/{conversationKey}/messages"] = _ => Get("/admin/conversations/telegram:c1/messages"),
        ["GET /admin/users/{userKey}/export"] = _ => Get("/admin/users/telegram:u1/export"),
        ["DELETE /admin/users/{userKey}"] = _ => Send(HttpMethod.Delete, "/admin/users/telegram:u1"),
        ["GET /admin/api-keys"] = _ => Get("/admin/api-keys"),
        ["POST /admin/api-keys"] = _ => Task.FromResult(new HttpRequestMessage(HttpMethod.Post, "/admin/api-keys")
        {
            Content = JsonContent.Create(new { role = "viewer", name = "made by test" }),
        }),
        ["DELETE /admin/api-keys/{id}"] = async host =>
        {
            var victim = await host.Services.GetRequiredService<ApiKeyStore>().CreateAsync("viewer", "to revoke", "test", default);
            return new HttpRequestMessage(HttpMethod.Delete, "/admin/api-keys/" + victim.Record.Id);
        },
        ["GET /admin/audit"] = _ => Get("/admin/audit?take=5"),
        ["GET /admin/audit/verify"] = _ => Get("/admin/audit/verify"),
    };

    private static Task<HttpRequestMessage> Get(string path) => Send(HttpMethod.Get, path);
    private static Task<HttpRequestMessage> Send(HttpMethod method, string path) => Task.FromResult(new HttpRequestMessage(method, path));

    private static List<(string Key, string? Permission)> AdminEndpointsOf(TestHost host) =>
        host.Services.GetRequiredService<EndpointDataSource>().Endpoints.OfType<RouteEndpoint>()
            .Where(e => e.RoutePattern.RawText?.StartsWith("/admin", StringComparison.Ordinal) == true)
            .SelectMany(e => (e.Metadata.GetMetadata<IHttpMethodMetadata>()?.HttpMethods ?? ["ANY"])
                .Select(m => ($"{m} {e.RoutePattern.RawText}", e.Metadata.GetMetadata<RequiresPermission>()?.Permission)))
            .ToList();

    [Fact]
    public async Task Every_endpoint_by_every_role_gets_exactly_what_the_matrix_allows()
    {
        await using var host = await SecurityTestHost.StartAsync(new Dictionary<string, string> { ["Security:AuthLimit:MaxFailures"] = "100000" });
        var matrix = Matrix();
        Assert.Equal(["admin", "auditor", "operator", "viewer"], matrix.Keys.Order());
        // The host bound the same matrix from its content root's config/roles.json.
        var bound = host.Services.GetRequiredService<IOptions<SecurityOptions>>().Value.Roles;
        Assert.Equal(matrix.Keys.Order(), bound.Keys.Order());

        var endpoints = AdminEndpointsOf(host);
        Assert.True(endpoints.Count >= 17, $"only {endpoints.Count} admin endpoints");
        Assert.Empty(endpoints.Where(e => e.Permission is null).Select(e => e.Key + " has no RequiresPermission rule"));
        Assert.Empty(endpoints.Where(e => !Samples.ContainsKey(e.Key)).Select(e => e.Key + " has no sample request in this test"));
        Assert.Empty(Samples.Keys.Except(endpoints.Select(e => e.Key)).Select(k => k + " is in the test but not in the app"));

        var keys = new Dictionary<string, string>();
        foreach (var role in matrix.Keys) keys[role] = await SecurityTestHost.CreateKeyAsync(host, role);
        using var client = host.CreateClient();
        var failures = new List<string>();
        int checks = 0;
        foreach (var (endpoint, permission) in endpoints)
        {
            foreach (var (role, granted) in matrix)
            {
                bool allowed = granted.Contains("*") || granted.Contains(permission!);
                using var request = await Samples[endpoint](host);
                request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", keys[role]);
                using var response = await client.SendAsync(request);
                int status = (int)response.StatusCode;
                bool ok = allowed ? status is >= 200 and < 300 : status == 403;
                checks++;
                if (!ok) failures.Add($"{endpoint} as {role}: expected {(allowed ? "2xx" : "403")}, got {status} {await response.Content.ReadAsStringAsync()}");
            }
            foreach (var bad in new[] { null, "mb_00000000_notakey", "garbage" })
            {
                using var request = await Samples[endpoint](host);
                if (bad is not null) request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", bad);
                using var response = await client.SendAsync(request);
                checks++;
                if (response.StatusCode != HttpStatusCode.Unauthorized) failures.Add($"{endpoint} with key '{bad}': expected 401, got {(int)response.StatusCode}");
            }
        }
        Assert.True(failures.Count == 0, string.Join("\n", failures));
        Assert.Equal(endpoints.Count * (matrix.Count + 3), checks);

        // Every authenticated admin operation (allowed or denied) is in the audit log, and the chain is intact.
        var audit = host.Services.GetRequiredService<AuditLog>();
        var verification = await AuditVerifier.VerifyAsync(audit.FilePath, default);
        Assert.True(verification.Ok, verification.Message);
        Assert.Equal(endpoints.Count * matrix.Count, verification.Records);
    }

    [Fact]
    public async Task Ports_that_are_not_registered_answer_503_not_available()
    {
        await using var host = await SecurityTestHost.StartAsync(withPorts: false);
        using var client = host.CreateClient();
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", await SecurityTestHost.CreateKeyAsync(host, "admin"));
        foreach (var path in new[] { "/admin/channels", "/admin/conversations", "/admin/users/web:u/export" })
        {
            var response = await client.GetAsync(path);
            Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
            Assert.Contains("not available in this build", await response.Content.ReadAsStringAsync());
        }
        Assert.Equal(HttpStatusCode.ServiceUnavailable, (await client.PostAsync("/admin/models/reload", null)).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/admin/status")).StatusCode);
    }

    [Fact]
    public async Task Keys_are_shown_once_stored_hashed_and_revocation_takes_effect()
    {
        await using var host = await SecurityTestHost.StartAsync();
        using var client = host.CreateClient();
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", await SecurityTestHost.CreateKeyAsync(host, "admin"));

        var created = await client.PostAsJsonAsync("/admin/api-keys", new { role = "auditor", name = "ops" });
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var body = await created.Content.ReadFromJsonAsync<JsonElement>();
        string key = body.GetProperty("key").GetString()!, id = body.GetProperty("id").GetString()!;

        string stored = await File.ReadAllTextAsync(Path.Combine(host.DataDirectory, "security", "api-keys.json"));
        // The secret is base64url and may itself contain '_': it is everything after the second one (as the store parses it).
        string secret = key.Split('_', 3)[2];
        Assert.Equal(43, secret.Length);
        Assert.DoesNotContain(secret, stored);
        Assert.Contains(id, stored);
        if (!OperatingSystem.IsWindows())
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(Path.Combine(host.DataDirectory, "security", "api-keys.json")));
        string list = await client.GetStringAsync("/admin/api-keys");
        Assert.DoesNotContain(key, list);

        using var auditor = host.CreateClient();
        auditor.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", key);
        Assert.Equal(HttpStatusCode.OK, (await auditor.GetAsync("/admin/audit/verify")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await client.DeleteAsync("/admin/api-keys/" + id)).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await auditor.GetAsync("/admin/audit/verify")).StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await client.PostAsJsonAsync("/admin/api-keys", new { role = "root" })).StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await client.PostAsync("/admin/api-keys", null)).StatusCode);
        using var anonymous = host.CreateClient();
        Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.PostAsync("/admin/api-keys", null)).StatusCode);
    }

    [Fact]
    public async Task Deleting_a_user_also_erases_the_pii_vaults_of_their_conversations()
    {
        await using var host = await SecurityTestHost.StartAsync();
        var masker = host.Services.GetRequiredService<MoltBot.Contracts.Security.IPiiMasker>();
        var vaults = host.Services.GetRequiredService<MoltBot.Security.Pii.PiiVaultStore>();
        await masker.MaskAsync("telegram:c1", "mail me at gone@example.com", default); // the fake reader's conversation of telegram:u1
        Assert.True(File.Exists(vaults.FileFor("telegram:c1")));
        using var client = host.CreateClient();
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", await SecurityTestHost.CreateKeyAsync(host, "admin"));
        var body = await (await client.DeleteAsync("/admin/users/telegram:u1")).Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal(3, body.GetProperty("removed").GetInt32());
        Assert.Equal(1, body.GetProperty("vaultsRemoved").GetInt32());
        Assert.False(File.Exists(vaults.FileFor("telegram:c1")));
        Assert.Equal("⟦EMAIL_1⟧", await masker.UnmaskAsync("telegram:c1", "⟦EMAIL_1⟧", default));
    }

    [Fact]
    public async Task Failed_authentications_are_rate_limited_per_client_ip()
    {
        await using var host = await SecurityTestHost.StartAsync(new Dictionary<string, string>
        {
            ["Security:AuthLimit:MaxFailures"] = "3",
            ["Security:AuthLimit:WindowSeconds"] = "600",
        });
        string good = await SecurityTestHost.CreateKeyAsync(host, "admin");
        using var client = host.CreateClient();
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", "mb_12345678_wrong");
        for (int i = 0; i < 3; i++) Assert.Equal(HttpStatusCode.Unauthorized, (await client.GetAsync("/admin/status")).StatusCode);
        var limited = await client.GetAsync("/admin/status");
        Assert.Equal(HttpStatusCode.TooManyRequests, limited.StatusCode);
        Assert.NotNull(limited.Headers.RetryAfter);
        // Even a valid key waits: the address is blocked, which is what stops guessing.
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", good);
        Assert.Equal(HttpStatusCode.TooManyRequests, (await client.GetAsync("/admin/status")).StatusCode);
    }

    [Fact]
    public async Task Conversation_view_is_masked_and_admin_operations_are_audited_without_raw_text()
    {
        await using var host = await SecurityTestHost.StartAsync();
        using var client = host.CreateClient();
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", await SecurityTestHost.CreateKeyAsync(host, "operator"));
        string messages = await client.GetStringAsync("/admin/conversations/telegram:c1/messages");
        Assert.DoesNotContain("legacy@example.com", messages);
        Assert.Contains("⟦EMAIL⟧", messages);
        Assert.Equal(HttpStatusCode.OK, (await client.PostAsync("/admin/channels/telegram/disable", null)).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await client.PostAsync("/admin/channels/nope/disable", null)).StatusCode);

        var records = await AuditVerifier.ReadAsync(host.Services.GetRequiredService<AuditLog>().FilePath, 0, long.MaxValue, 100, default);
        var disable = records.First(r => r.Action == "admin.channels.disable");
        Assert.Equal("operator", disable.Role);
        Assert.StartsWith("apikey:", disable.Actor);
        Assert.Equal("platform=telegram", disable.Target);
        Assert.Equal("200", disable.Outcome);
        Assert.True(disable.Ts > 1_700_000_000_000);
        Assert.Contains(records, r => r.Action == "admin.channels.disable" && r.Outcome == "404");
    }
}
