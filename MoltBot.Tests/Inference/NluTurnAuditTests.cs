using Microsoft.Extensions.Hosting;
using MoltBot.Contracts.Inference;
using MoltBot.Contracts.Pipeline;
using MoltBot.Contracts.Security;
using MoltBot.Inference.Engines;

namespace MoltBot.Tests.Inference;

public class NluTurnAuditTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);

    /// <summary>Holds every append until <see cref="Open"/> (a slow disk), then records it.</summary>
    private sealed class GatedAuditLog : IAuditLog
    {
        private volatile TaskCompletionSource _gate = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private volatile TaskCompletionSource _entered = new(TaskCreationOptions.RunContinuationsAsynchronously);
        public List<AuditEntry> Written { get; } = [];

        /// <summary>Completes when an append has reached the closed gate (the record is being written, and held).</summary>
        public Task Entered => _entered.Task;

        public async ValueTask AppendAsync(AuditEntry entry, CancellationToken cancellationToken)
        {
            _entered.TrySetResult();
            await _gate.Task.WaitAsync(cancellationToken);
            lock (Written) Written.Add(entry);
        }

        public void Open() => _gate.TrySetResult();
        public void Close()
        {
            _entered = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            _gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        }
        public int Count { get { lock (Written) return Written.Count; } }
    }

    /// <summary>
    /// Outside a pipeline turn a model call returns once its audit record is written. Inside one it returns at once
    /// and hands the append to the turn's barrier, which the final reply waits for.
    /// </summary>
    [Fact]
    public async Task Inside_a_turn_nlu_does_not_wait_for_its_audit_record_but_the_turns_barrier_does()
    {
        string models = TinyModels.TempDir("turn-audit");
        InferenceHost.WriteModels(models);
        var audit = new GatedAuditLog();
        using var host = InferenceHost.Build(models, new() { ["Inference:NluPolicy"] = "teacher" }, audit);
        await host.StartAsync().WaitAsync(Timeout);
        try
        {
            var nlu = host.Services.GetRequiredService<INluEngine>();

            var outside = nlu.ParseAsync("hello there", CancellationToken.None);
            await audit.Entered.WaitAsync(Timeout); // its record is held at the gate now
            Assert.False(outside.IsCompleted, "outside a turn the caller waits for the audit record");
            audit.Open();
            await outside.WaitAsync(Timeout);
            Assert.Equal(1, audit.Count);

            audit.Close();
            var (result, barrier) = await Task.Run(async () =>
            {
                var turn = TurnBarrier.Open();
                return (await nlu.ParseAsync("what time is it", CancellationToken.None), turn);
            }).WaitAsync(Timeout);
            Assert.Equal("teacher-nlu", result.Model);
            Assert.Equal(1, audit.Count); // answered while its record is still held
            Assert.Equal(1, barrier.Pending);
            await audit.Entered.WaitAsync(Timeout);
            var passed = barrier.CloseAsync();
            Assert.False(passed.IsCompleted, "the reply's barrier waits for the held record");
            audit.Open();
            await passed.WaitAsync(Timeout);
            Assert.Equal(2, audit.Count);
            Assert.Equal(ModelAudit.Hash("what time is it"), audit.Written[1].InputHash);

            // After the reply (barrier closed) a model call of the same flow waits for its own record again.
            audit.Close();
            var late = Task.Run(async () =>
            {
                await TurnBarrier.Open().CloseAsync();
                Assert.False(TurnBarrier.TryDefer(Task.CompletedTask));
                return await nlu.ParseAsync("bye", CancellationToken.None);
            });
            await audit.Entered.WaitAsync(Timeout);
            Assert.False(late.IsCompleted, "after its reply, a turn's model call waits for its audit record");
            audit.Open();
            await late.WaitAsync(Timeout);
            Assert.Equal(3, audit.Count);
        }
        finally
        {
            audit.Open();
            await host.StopAsync();
            try { Directory.Delete(models, true); } catch (IOException) { }
        }
    }
}
