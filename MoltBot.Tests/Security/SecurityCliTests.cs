using System.Net;
using System.Net.Http.Headers;
using MoltBot.Cli;
using MoltBot.Security.Audit;

namespace MoltBot.Tests.Security;

/// <summary>The security verbs, run in-process against the data directory of a running server.</summary>
public class SecurityCliTests
{
    private static readonly SemaphoreSlim ConsoleGate = new(1, 1);

    private static async Task<(int Code, string Out)> RunAsync(params string[] args)
    {
        await ConsoleGate.WaitAsync();
        var previous = Console.Out;
        var capture = new StringWriter();
        try
        {
            Console.SetOut(capture);
            int code = await CliApp.InvokeAsync(args);
            return (code, capture.ToString());
        }
        finally
        {
            Console.SetOut(previous);
            ConsoleGate.Release();
        }
    }

    [Fact]
    public async Task Bootstrap_key_from_the_cli_works_on_a_running_server_and_is_audited()
    {
        await using var host = await SecurityTestHost.StartAsync();
        string data = host.DataDirectory;

        var (code, output) = await RunAsync("apikey", "create", "--role", "admin", "--name", "first admin", "--Storage:DataDirectory", data);
        Assert.Equal(0, code);
        string key = output.Split('\n').Single(l => l.StartsWith("key:", StringComparison.Ordinal))[4..].Trim();
        string id = output.Split('\n').Single(l => l.StartsWith("id:", StringComparison.Ordinal))[3..].Trim();

        using var client = host.CreateClient();
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", key);
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/admin/status")).StatusCode);

        (code, output) = await RunAsync("apikey", "list", "--Storage:DataDirectory", data);
        Assert.Equal(0, code);
        Assert.Contains(id, output);
        Assert.DoesNotContain(key, output);

        Assert.Equal(0, (await RunAsync("apikey", "revoke", id, "--Storage:DataDirectory", data)).Code);
        Assert.Equal(HttpStatusCode.Unauthorized, (await client.GetAsync("/admin/status")).StatusCode);
        Assert.Equal(1, (await RunAsync("apikey", "revoke", id, "--Storage:DataDirectory", data)).Code);

        // The CLI and the server appended to one chain: the server's record for /admin/status sits between the CLI's.
        (code, output) = await RunAsync("audit", "verify", "--Storage:DataDirectory", data);
        Assert.Equal(0, code);
        Assert.Contains("chain intact", output);
        string exportFile = Path.Combine(host.Root, "export.jsonl");
        Assert.Equal(0, (await RunAsync("audit", "export", "--from", "2020-01-01", "--to", "2100-01-01", "--out", exportFile, "--Storage:DataDirectory", data)).Code);
        var actions = File.ReadAllLines(exportFile).Select(l => AuditRecord.Parse(l)!.Action).ToList();
        Assert.Equal(["cli.apikeys.create", "admin.status", "cli.apikeys.revoke", "cli.apikeys.revoke"], actions);

        // Tamper with a record: verify names the line and exits 1.
        string auditFile = Path.Combine(data, "audit", "audit.jsonl");
        var lines = File.ReadAllLines(auditFile);
        lines[1] = lines[1].Replace("admin.status", "admin.statuz", StringComparison.Ordinal);
        File.WriteAllLines(auditFile, lines);
        Assert.Equal(1, (await RunAsync("audit", "verify", "--Storage:DataDirectory", data)).Code);
    }

    [Fact]
    public async Task Cert_dev_writes_a_pem_pair_with_an_owner_only_key()
    {
        string dir = Directory.CreateTempSubdirectory("moltbot-certcli").FullName;
        try
        {
            var (code, output) = await RunAsync("cert", "dev", "--out", dir, "--days", "30", "--host", "bot.example.test", "--Storage:DataDirectory", dir);
            Assert.Equal(0, code);
            Assert.Contains("Kestrel__Endpoints__Https__Certificate__Path", output);
            using var cert = System.Security.Cryptography.X509Certificates.X509Certificate2.CreateFromPemFile(
                Path.Combine(dir, "dev-cert.pem"), Path.Combine(dir, "dev-key.pem"));
            Assert.True(cert.HasPrivateKey);
            Assert.Contains("bot.example.test", cert.Extensions.OfType<System.Security.Cryptography.X509Certificates.X509SubjectAlternativeNameExtension>().Single().EnumerateDnsNames());
            if (!OperatingSystem.IsWindows())
                Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(Path.Combine(dir, "dev-key.pem")));
        }
        finally
        {
            Directory.Delete(dir, true);
        }
    }
}
