using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using MoltBot.Contracts.Security;

namespace MoltBot.Inference.Engines;

/// <summary>
/// Appends one AuditEntry per model call when an IAuditLog is registered (the security module's, resolved lazily
/// and optionally). Only SHA-256 hashes and token counts leave the module, never the text.
/// </summary>
internal sealed class ModelAudit(IServiceProvider services, TimeProvider time, ILogger<ModelAudit> logger)
{
    private readonly Lazy<IAuditLog?> log = new(services.GetService<IAuditLog>);

    public async ValueTask AppendAsync(string action, string model, string input, string output, int inputTokens, int outputTokens,
        double latencyMs, string outcome)
    {
        if (log.Value is not { } audit) return;
        try
        {
            await audit.AppendAsync(new AuditEntry("system", "system", action, model)
            {
                TimestampMs = time.GetUtcNow().ToUnixTimeMilliseconds(),
                Model = model,
                LatencyMs = Math.Round(latencyMs, 3),
                InputTokens = inputTokens,
                OutputTokens = outputTokens,
                InputHash = Hash(input),
                OutputHash = Hash(output),
                Outcome = outcome,
            }, CancellationToken.None);
        }
        catch (Exception ex) when (ex is IOException or InvalidOperationException or ObjectDisposedException)
        {
            logger.LogWarning(ex, "Audit append failed for {Action} on {Model}", action, model);
        }
    }

    public static string Hash(string text) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text)));
}
