using Microsoft.Extensions.Options;
using MoltBot.Hosting;

namespace MoltBot.Tests.Security;

public class SecurityOptionsTests
{
    [Fact]
    public async Task Invalid_security_settings_stop_the_start_with_messages_naming_the_keys()
    {
        var ex = await Assert.ThrowsAnyAsync<Exception>(() => SecurityTestHost.StartAsync(new Dictionary<string, string>
        {
            ["Security:Tls:MinimumInbound"] = "Tls11",
            ["Security:ApiKeys:Pbkdf2Iterations"] = "1000",
            ["Security:Vault:Key"] = "not-base64!",
            ["Security:Roles:viewer:0"] = "launch.missiles",
        }));
        string message = string.Join("\n", StartupErrors.Describe(ex));
        Assert.Contains("Security:Tls:MinimumInbound", message);
        Assert.Contains("Security:ApiKeys:Pbkdf2Iterations 1000 is out of range; allowed 100000..10000000", message);
        Assert.Contains("Security:Vault:Key", message);
        Assert.Contains("unknown permission 'launch.missiles'", message);
        Assert.IsType<OptionsValidationException>(ex is AggregateException a ? a.InnerExceptions[0] : ex);
    }

    [Fact]
    public async Task A_corrupt_vault_key_file_is_a_one_line_startup_error()
    {
        string root = Directory.CreateTempSubdirectory("moltbot-sec-key").FullName;
        Directory.CreateDirectory(Path.Combine(root, "data", "security"));
        await File.WriteAllTextAsync(Path.Combine(root, "data", "security", "vault.key"), "garbage");
        var ex = await Assert.ThrowsAnyAsync<Exception>(() => TestHost.StartAsync(root: root));
        Assert.Contains(StartupErrors.Describe(ex), l => l.Contains("Vault key file") && l.Contains("corrupt"));
        Directory.Delete(root, true);
    }
}
