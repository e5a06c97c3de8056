using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Hosting;
using MoltBot.Contracts.Configuration;
using MoltBot.Contracts.Security;
using MoltBot.Inference;

namespace MoltBot.Tests.Inference;

/// <summary>
/// A generic host with only the inference module, over a temp Models:Directory holding tiny random models
/// (teacher/student × NLU/LM). Faster than the whole MoltBot host; the host-level behaviour has its own test.
/// </summary>
public sealed class InferenceHost : IAsyncDisposable
{
    private InferenceHost(IHost host, string models)
    {
        Host = host;
        ModelsDirectory = models;
    }

    public IHost Host { get; }
    public string ModelsDirectory { get; }
    public IServiceProvider Services => Host.Services;

    /// <summary>Writes the four tiny models (shared vocabulary) into <paramref name="models"/>.</summary>
    public static void WriteModels(string models)
    {
        TinyModels.WriteNluFolder(Path.Combine(models, "teacher-nlu"), TinyModels.Nlu(), seed: 21);
        TinyModels.WriteNluFolder(Path.Combine(models, "student-nlu"), TinyModels.Nlu(), seed: 22, int8: true);
        TinyModels.WriteDecoderFolder(Path.Combine(models, "teacher-lm"), TinyModels.Decoder(hidden: 48, layers: 2, ff: 96), seed: 23);
        TinyModels.WriteDecoderFolder(Path.Combine(models, "student-lm"), TinyModels.Decoder(hidden: 32, layers: 1, ff: 64), seed: 24, int8: true);
    }

    /// <param name="time">The clock the module gets (default the system's).</param>
    public static async Task<InferenceHost> StartAsync(Dictionary<string, string?>? settings = null, string? models = null, TimeProvider? time = null)
    {
        if (models is null)
        {
            models = TinyModels.TempDir("models");
            WriteModels(models);
        }
        var audit = new List<AuditEntry>();
        var host = Build(models, settings, new ListAuditLog(audit), time);
        try
        {
            await host.StartAsync();
        }
        catch
        {
            host.Dispose();
            throw;
        }
        return new InferenceHost(host, models) { Audit = audit };
    }

    /// <summary>
    /// The host, built but not started (for tests that hold parts of start-up): 1 torch thread unless
    /// <paramref name="settings"/> say otherwise; audit entries go to <paramref name="audit"/>.
    /// </summary>
    public static IHost Build(string models, Dictionary<string, string?>? settings, List<AuditEntry> audit) =>
        Build(models, settings, new ListAuditLog(audit));

    /// <summary>The host with its own <see cref="IAuditLog"/> (e.g. one that holds appends on a gate).</summary>
    public static IHost Build(string models, Dictionary<string, string?>? settings, IAuditLog auditLog, TimeProvider? time = null)
    {
        var builder = Microsoft.Extensions.Hosting.Host.CreateApplicationBuilder();
        // Secondary models load at once (no first reply to wait for here); DeferredSecondaryLoadTests cover the delay.
        var all = new Dictionary<string, string?> { ["Inference:Threads"] = "1", ["Inference:SecondaryLoadDelayMs"] = "0" };
        foreach (var (k, v) in settings ?? []) all[k] = v;
        builder.Configuration.AddInMemoryCollection(all);
        builder.Logging.ClearProviders();
        builder.Services.AddSingleton(new MoltBotPaths(models, Path.Combine(models, "data"), models));
        builder.Services.AddSingleton(time ?? TimeProvider.System);
        builder.Services.AddSingleton(auditLog);
        builder.Services.AddMoltBotInference(builder.Configuration);
        return builder.Build();
    }

    /// <summary>Entries the module appended to IAuditLog.</summary>
    public List<AuditEntry> Audit { get; private init; } = [];

    public async ValueTask DisposeAsync()
    {
        await Host.StopAsync();
        Host.Dispose();
        try { Directory.Delete(ModelsDirectory, true); } catch (IOException) { }
    }

    private sealed class ListAuditLog(List<AuditEntry> entries) : IAuditLog
    {
        public ValueTask AppendAsync(AuditEntry entry, CancellationToken cancellationToken)
        {
            lock (entries) entries.Add(entry);
            return ValueTask.CompletedTask;
        }
    }
}
