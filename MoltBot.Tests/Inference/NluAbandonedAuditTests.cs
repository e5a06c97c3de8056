using Microsoft.Extensions.Hosting;
using MoltBot.Contracts.Security;
using MoltBot.Inference.Engines;

namespace MoltBot.Tests.Inference;

public class NluAbandonedAuditTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);

    /// <summary>
    /// Every utterance a model ran has an audit entry, even when its caller stopped waiting: one abandoned after the
    /// student ran it (here while its escalation waits for the teacher to load) is audited as "abandoned" with the
    /// student's answer; one abandoned while still queued is never run and leaves no entry.
    /// </summary>
    [Fact]
    public async Task An_utterance_a_model_ran_is_audited_even_when_its_caller_gave_up()
    {
        string models = TinyModels.TempDir("abandoned");
        InferenceHost.WriteModels(models);
        var audit = new List<AuditEntry>();
        using var host = InferenceHost.Build(models, new() { ["Inference:NluPolicy"] = "escalate", ["Inference:NluEscalationThreshold"] = "1" }, audit);
        var registry = host.Services.GetRequiredService<ModelRegistry>();
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        registry.SecondaryLoadGate = () => gate.Task; // the teacher stays unloaded until the gate opens
        var start = host.StartAsync();
        await registry.WhenPrimaryReadyAsync(CancellationToken.None).WaitAsync(Timeout);
        var engine = host.Services.GetRequiredService<NluEngine>();

        using var ran = new CancellationTokenSource();
        var ranTask = engine.ParseAsync("hello there", ran.Token);
        // The student has run it once it waits for the teacher (the escalation holds the worker until the gate opens).
        var deadline = DateTime.UtcNow + Timeout;
        while (engine.PendingEscalations == 0 && DateTime.UtcNow < deadline) await Task.Delay(10);
        Assert.Equal(1, engine.PendingEscalations);
        using var queued = new CancellationTokenSource();
        var queuedTask = engine.ParseAsync("what time is it", queued.Token);
        queued.Cancel();
        ran.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => ranTask);
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => queuedTask);

        gate.SetResult();
        await start.WaitAsync(Timeout);
        // A later request is answered after the worker has passed the abandoned queued one.
        Assert.Equal("teacher-nlu", (await engine.ParseAsync("cancel my reminder", CancellationToken.None).WaitAsync(Timeout)).Model);
        AuditEntry[] Entries() { lock (audit) return audit.Where(e => e.Action == "model.nlu").ToArray(); }
        while (!Entries().Any(e => e.Outcome == "abandoned") && DateTime.UtcNow < deadline) await Task.Delay(10);

        var entries = Entries();
        var abandoned = Assert.Single(entries, e => e.Outcome == "abandoned");
        Assert.Equal(ModelAudit.Hash("hello there"), abandoned.InputHash);
        Assert.Equal("student-nlu", abandoned.Model);
        Assert.DoesNotContain(entries, e => e.InputHash == ModelAudit.Hash("what time is it"));
        Assert.Single(entries, e => e.InputHash == ModelAudit.Hash("cancel my reminder") && e.Outcome == "escalated");
        await host.StopAsync();
        try { Directory.Delete(models, true); } catch (IOException) { }
    }
}
