using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using MoltBot.Contracts.Pipeline;
using MoltBot.Contracts.Security;

namespace MoltBot.Inference.Engines;

/// <summary>
/// Appends one AuditEntry per model call when an IAuditLog is registered (the security module's, resolved lazily
/// and optionally). Only SHA-256 hashes and token counts leave the module, never the text. Inside a pipeline turn
/// the append is handed to the turn's <see cref="TurnBarrier"/> (the final reply waits for it, the caller does
/// not); elsewhere the caller waits until the record is written.
/// </summary>
internal sealed class ModelAudit(IServiceProvider services, TimeProvider time, ILogger<ModelAudit> logger)
{
    private readonly Lazy<IAuditLog?> log = new(services.GetService<IAuditLog>);

    public ValueTask AppendAsync(string action, string model, string input, string output, int inputTokens, int outputTokens,
        double latencyMs, string outcome)
    {
        if (log.Value is not { } audit) return ValueTask.CompletedTask;
        var append = WriteAsync(audit, action, model, input, output, inputTokens, outputTokens, latencyMs, outcome);
        return append.IsCompleted || !TurnBarrier.TryDefer(append) ? new ValueTask(append) : ValueTask.CompletedTask;
    }

    /// <summary>Never faults: a failed append is logged (deferred appends have no one else to observe them).</summary>
    private async Task WriteAsync(IAuditLog audit, string action, string model, string input, string output, int inputTokens,
        int outputTokens, double latencyMs, string outcome)
    {
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
        catch (Exception ex)
        {
            logger.LogWarning(ex, "Audit append failed for {Action} on {Model}", action, model);
        }
    }

    public static string Hash(string text) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text)));
}
