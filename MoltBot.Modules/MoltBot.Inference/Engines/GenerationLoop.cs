using System.Runtime.InteropServices;
using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using MoltBot.Contracts.Inference;
using MoltBot.Inference.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace MoltBot.Inference.Engines;

/// <summary>
/// Continuous batching for one decoder: jobs arrive through a bounded channel, join the running batch whenever a KV
/// slot is free (their prompt is prefilled on join), then every step decodes one token for all running sequences
/// in a single forward pass. Finished or cancelled sequences leave between steps and free their slot.
/// </summary>
internal sealed class GenerationLoop
{
    private readonly LoadedDecoder model;
    private readonly ModelSet owner;
    private readonly string id;
    private readonly ILogger logger;
    private readonly Channel<GenerationJob> queue;
    // Allocated at the first job (on the loop's thread), not with the model: a deployment that never generates with this
    // model (the default NLU + skill turns) keeps its zero-filled [slots × heads × length] tensors out of memory
    // (teacher-lm: ≈ 9 MB, student-lm ≈ 2.4 MB at 8 slots × 192 tokens).
    private KvCache? cache;
    private readonly int slots;
    private readonly Device device;
    private readonly HashSet<int> stopIds;
    private readonly Task runner;

    public GenerationLoop(string id, LoadedDecoder model, ModelSet owner, int slots, int maxLength, int queueCapacity, ILogger logger)
    {
        this.id = id;
        this.model = model;
        this.owner = owner;
        this.logger = logger;
        device = model.Model.parameters().First().device;
        MaxLength = Math.Min(maxLength, model.Config.MaxPositionEmbeddings);
        if (slots <= 0) throw new ArgumentOutOfRangeException(nameof(slots), "at least one slot");
        this.slots = slots;
        queue = Channel.CreateBounded<GenerationJob>(new BoundedChannelOptions(queueCapacity) { FullMode = BoundedChannelFullMode.Wait, SingleReader = true });
        stopIds = StopTokenIds(model);
        owner.TryAcquire(); // released when the loop ends
        runner = Task.Factory.StartNew(RunAsync, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default).Unwrap();
    }

    public string Id => id;
    public LoadedDecoder Model => model;
    public int MaxLength { get; }
    public Task Completion => runner;

    /// <summary>True once the first job allocated the KV cache.</summary>
    internal bool CacheAllocated => Volatile.Read(ref cache) is not null;

    /// <summary>End tokens: the config's eos_token_id and the chat template's stop tokens.</summary>
    internal static HashSet<int> StopTokenIds(LoadedDecoder model)
    {
        var ids = new HashSet<int>();
        if (model.Config.EosTokenId is { } eos) ids.Add(eos);
        foreach (var s in model.Template.StopStrings)
            if (model.Tokenizer.SpecialId(s) is { } sid) ids.Add(sid);
        return ids;
    }

    /// <summary>Queues a job (waits while the queue is full). False when this loop was retired by a reload.</summary>
    public async ValueTask<bool> SubmitAsync(GenerationJob job, CancellationToken cancellationToken)
    {
        while (await queue.Writer.WaitToWriteAsync(cancellationToken))
            if (queue.Writer.TryWrite(job)) return true;
        return false;
    }

    public void Complete() => queue.Writer.TryComplete();

    private async Task RunAsync()
    {
        var active = new List<GenerationJob>();
        try
        {
            while (true)
            {
                if (active.Count == 0 && !await queue.Reader.WaitToReadAsync()) break;
                while (active.Count < slots && queue.Reader.TryRead(out var job)) Admit(job, active);
                if (active.Count > 0) Step(active);
            }
        }
        catch (Exception ex)
        {
            // Never leave callers hanging: every queued and running job gets the failure.
            logger.LogError(ex, "Generation loop {Model} failed", id);
            foreach (var j in active) j.Output.Writer.TryComplete(ex);
            while (queue.Reader.TryRead(out var j)) j.Output.Writer.TryComplete(ex);
        }
        finally
        {
            cache?.Dispose();
            owner.Release();
        }
    }

    /// <summary>Prefills the prompt into a free slot and samples the first token.</summary>
    private void Admit(GenerationJob job, List<GenerationJob> active)
    {
        if (job.CancellationToken.IsCancellationRequested)
        {
            job.Output.Writer.TryComplete(new OperationCanceledException(job.CancellationToken));
            return;
        }
        var kv = cache ??= new KvCache(model.Config, slots, MaxLength, device);
        job.Slot = kv.TryRent();
        job.Text = new TokenTextStream(model.Tokenizer, job.Sampling.Stop.Concat(model.Template.StopStrings).ToList());
        using var mode = torch.inference_mode();
        using var scope = NewDisposeScope();
        var tokens = torch.tensor(job.Prompt.Select(t => (long)t).ToArray(), device: device).unsqueeze(0);
        var logits = model.Model.ForwardCached(tokens, kv, [job.Slot], [0], lastOnly: true); // [1,1,V]
        job.Position = job.Prompt.Count;
        active.Add(job);
        Emit(job, Row(logits, 0), active);
    }

    /// <summary>One decode step for every running sequence at its own position.</summary>
    private void Step(List<GenerationJob> active)
    {
        foreach (var j in active.Where(j => j.CancellationToken.IsCancellationRequested).ToList()) Finish(j, "cancelled", active);
        if (active.Count == 0) return;
        var batch = active.ToList();
        using var mode = torch.inference_mode();
        using var scope = NewDisposeScope();
        var tokens = torch.tensor(batch.Select(j => (long)j.Pending).ToArray(), device: device).unsqueeze(1); // [B,1]
        var logits = model.Model.ForwardCached(tokens, cache!, batch.Select(j => j.Slot).ToList(), batch.Select(j => j.Position).ToList(), lastOnly: true);
        var cpu = logits.to(ScalarType.Float32).cpu().contiguous();
        for (int b = 0; b < batch.Count; b++)
        {
            batch[b].Position++;
            Emit(batch[b], Row(cpu, b), active);
        }
    }

    private static float[] Row(Tensor logits, int b)
    {
        using var r = logits[b].reshape(-1).cpu().contiguous();
        return MemoryMarshal.Cast<byte, float>(r.bytes).ToArray();
    }

    /// <summary>Samples the next token for <paramref name="job"/>, streams it, and ends the job when it is done.</summary>
    private void Emit(GenerationJob job, float[] logits, List<GenerationJob> active)
    {
        var (token, logProb) = Sampler.Next(logits, job.Seen, job.Sampling, job.Random);
        job.Generated.Add(token);
        job.Seen.Add(token);
        job.LogProbSum += logProb;
        job.Pending = token;
        if (stopIds.Contains(token))
        {
            Write(job, new GeneratedToken(job.Text!.Flush(), logProb) { TokenId = token, Model = id, FinishReason = "stop" });
            Finish(job, null, active);
            return;
        }
        var (delta, stopped) = job.Text!.Add(token);
        string? reason = stopped ? "stop"
            : job.Generated.Count >= job.MaxNewTokens || job.Position + 1 >= MaxLength ? "length" : null;
        if (reason == "length") delta += job.Text.Flush();
        Write(job, new GeneratedToken(delta, logProb) { TokenId = token, Model = id, FinishReason = reason });
        if (reason is not null) Finish(job, null, active);
    }

    private static void Write(GenerationJob job, GeneratedToken token) => job.Output.Writer.TryWrite(token);

    private void Finish(GenerationJob job, string? cancelled, List<GenerationJob> active)
    {
        active.Remove(job);
        if (job.Slot >= 0) cache!.Return(job.Slot); // a slot was rented from the allocated cache
        job.Slot = -1;
        job.FinishReason ??= cancelled;
        if (cancelled is not null) job.Output.Writer.TryComplete(new OperationCanceledException(job.CancellationToken));
        else job.Output.Writer.TryComplete();
    }
}
