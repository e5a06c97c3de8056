using Microsoft.Extensions.Logging;
using MoltBot.Security.Logging;

namespace MoltBot.Tests.Security;

public class SecretLoggingTests
{
    private const string BotToken = "987654321:AAF-platform-token-value-1234567890"; // not the detector's exact shape on purpose
    private const string Password = "correct horse battery staple";
    private const string EnvSecret = "env-only-signing-secret-42";

    [Fact]
    public async Task Configured_secrets_never_reach_the_log_files()
    {
        Environment.SetEnvironmentVariable("MOLTBOT__Channels__Slack__SigningSecret", EnvSecret);
        try
        {
            await using var host = await SecurityTestHost.StartAsync(new Dictionary<string, string>
            {
                ["Channels:Telegram:BotToken"] = BotToken,
                ["Gateway:Admin:Password"] = Password,
            });
            var logger = host.Services.GetRequiredService<ILoggerFactory>().CreateLogger("SecretLeakProbe");
            // The ways secrets usually escape: a structured property, an interpolated message, an exception message.
            logger.LogInformation("Connecting with token {Token}", BotToken);
            logger.LogWarning($"Login with password {Password} and {EnvSecret}");
            logger.LogError(new HttpRequestException($"POST https://api.telegram.org/bot{BotToken}/sendMessage failed"), "Send failed");
            logger.LogInformation("Reach me at someone@example.com");
            await host.StopAsync();

            var logs = Directory.GetFiles(host.Root, "*.clef", SearchOption.AllDirectories);
            Assert.True(logs.Length > 0, string.Join("\n", Directory.GetFileSystemEntries(host.Root, "*", SearchOption.AllDirectories)));
            Assert.NotEmpty(logs);
            string all = string.Join("\n", logs.Select(File.ReadAllText));
            Assert.Contains("SecretLeakProbe", all);
            Assert.DoesNotContain(BotToken, all);
            Assert.DoesNotContain("platform-token-value", all);
            Assert.DoesNotContain(Password, all);
            Assert.DoesNotContain(EnvSecret, all);
            Assert.DoesNotContain("someone@example.com", all);
            Assert.Contains(LogRedactor.Mask, all);
        }
        finally
        {
            Environment.SetEnvironmentVariable("MOLTBOT__Channels__Slack__SigningSecret", null);
        }
    }

    [Fact]
    public void Redactor_masks_escaped_forms_and_keeps_loopback_addresses()
    {
        var redactor = new LogRedactor(["pa\"ss\\word-123"]);
        Assert.Equal("x *** y", redactor.Redact("x pa\"ss\\word-123 y"));
        Assert.Equal("{\"p\":\"***\"}", redactor.Redact("{\"p\":\"pa\\\"ss\\\\word-123\"}"));
        Assert.Equal("listening on http://127.0.0.1:5000, client ⟦IP⟧", redactor.Redact("listening on http://127.0.0.1:5000, client 203.0.113.9"));
    }
}
