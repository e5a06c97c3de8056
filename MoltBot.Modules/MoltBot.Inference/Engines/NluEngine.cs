using System.Diagnostics;
using System.Threading.Channels;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using MoltBot.Contracts.Configuration;
using MoltBot.Contracts.Inference;
using MoltBot.Inference.Models;
using MoltBot.Inference.Tokenization;
using TorchSharp;
using static TorchSharp.torch;

namespace MoltBot.Inference.Engines;

/// <summary>
/// NLU and sentence embeddings with dynamic micro-batching. Requests wait in a bounded channel; the worker takes
/// everything already queued (up to NluMaxBatch). A lone request runs at once; when several are queued (load),
/// the batch may wait up to NluMaxWaitMs for more. The primary model (student, or teacher by policy) runs first;
/// utterances whose intent probability is below NluEscalationThreshold are re-run on the teacher. With NluInline, a
/// request that finds the queue empty and the model idle runs on the caller's thread (no hand-off to the worker).
/// </summary>
internal sealed class NluEngine : BackgroundService, INluEngine, ISentenceEmbedder
{
    private readonly ModelRegistry registry;
    private readonly InferenceOptions options;
    private readonly ModelAudit audit;
    private readonly TimeProvider time;
    private readonly ILogger<NluEngine> logger;
    private readonly Channel<NluWork> queue;
    private readonly MoltBotPaths paths;
    // The serial stage: held by the worker for a batch, or by a caller running a lone request inline. It guards the
    // models' use and the state below (escalations waiting for a pooled teacher pass).
    private readonly SemaphoreSlim stage = new(1, 1);
    private readonly List<PendingEscalation> pending = [];
    private long inlineRuns;

    /// <summary>Requests run on the caller's thread so far (NluInline; read by tests).</summary>
    internal long InlineRuns => Interlocked.Read(ref inlineRuns);

    /// <summary>Utterances the student has run that wait for a teacher pass, pooled or under way (read by tests).</summary>
    internal int PendingEscalations => Volatile.Read(ref pendingCount);
    private int pendingCount;
    private int pendingTokens;
    private int lastBatchSize;
    private long oldestPending;

    public NluEngine(ModelRegistry registry, IOptions<InferenceOptions> options, ModelAudit audit, TimeProvider time, ILogger<NluEngine> logger,
        MoltBotPaths paths)
    {
        this.paths = paths;
        this.registry = registry;
        this.options = options.Value;
        this.audit = audit;
        this.time = time;
        this.logger = logger;
        queue = Channel.CreateBounded<NluWork>(new BoundedChannelOptions(this.options.QueueCapacity) { FullMode = BoundedChannelFullMode.Wait, SingleReader = true });
    }

    public int Dimension
    {
        get
        {
            if (Primary(registry.Current) is { } loaded) return loaded.Config.EmbeddingSize;
            // Other modules may ask before the models are loaded (their start-up runs first): read the config.
            string name = options.NluPolicy == "teacher" || string.IsNullOrEmpty(options.StudentNlu) ? options.TeacherNlu : options.StudentNlu;
            string config = paths.Model(name, "config.json");
            return File.Exists(config) ? ModelFolder.NluConfigOf(paths.Model(name)).EmbeddingSize
                : throw new InvalidOperationException($"no NLU model: {config} does not exist");
        }
    }

    public async Task<NluResult> ParseAsync(string text, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(text);
        // Tokenize on the caller's thread: the worker is the serial stage, so what callers can do in parallel they do.
        // (The worker re-encodes if the primary model changed in between: reload, or start-up still loading.)
        var primary = Primary(registry.Current);
        var work = new NluWork(text, primary?.Tokenizer, primary is null ? null : Encode(primary, text));
        if (!TryStartInline(work, cancellationToken)) await queue.Writer.WriteAsync(work, cancellationToken);
        NluResult result;
        try
        {
            result = await work.Result.Task.WaitAsync(cancellationToken);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // The worker skips an abandoned utterance it has not started; one a model has already run still gets its
            // audit entry, written when the worker delivers the result nobody is waiting for.
            work.Abandon();
            _ = AuditAbandonedAsync(work);
            throw;
        }
        // Audit on the caller's thread too (two SHA-256 and an append per request), before the caller holds the result.
        await AuditAsync(work, result, result.Escalated ? "escalated" : "ok");
        return result;
    }

    /// <summary>
    /// Light load: nothing queued, no escalation pooled and the model idle — run the request on this thread, as the
    /// worker would run a batch of one (a lone low-confidence request escalates at once). The run completes
    /// synchronously once the models are loaded; while one is still loading it goes on in the background holding the
    /// stage, like the worker, and the caller waits for the result as a queued request would. False: queue it.
    /// </summary>
    private bool TryStartInline(NluWork work, CancellationToken cancellationToken)
    {
        if (!options.NluInline || queue.Reader.Count > 0 || cancellationToken.IsCancellationRequested || !stage.Wait(0)) return false;
        if (pending.Count > 0 || queue.Reader.Count > 0)
        {
            stage.Release();
            return false;
        }
        Interlocked.Increment(ref inlineRuns);
        _ = RunInlineAsync(work);
        return true;
    }

    private async Task RunInlineAsync(NluWork work)
    {
        try
        {
            lastBatchSize = 1;
            await RunBatchAsync([work]); // fails its request rather than throwing
            if (pending.Count > 0) await EscalateAsync();
        }
        finally
        {
            stage.Release();
        }
    }

    private ValueTask AuditAsync(NluWork work, NluResult result, string outcome) =>
        audit.AppendAsync("model.nlu", result.Model, work.Text, result.Intent, work.InputTokens, 0, work.LatencyMs, outcome);

    /// <summary>Audits the result of an abandoned request if a model produced one (not if it was skipped or failed).</summary>
    private async Task AuditAbandonedAsync(NluWork work)
    {
        await ((Task)work.Result.Task).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        if (work.Result.Task.IsCompletedSuccessfully) await AuditAsync(work, await work.Result.Task, "abandoned");
    }

    public async Task<float[]> EmbedAsync(string text, CancellationToken cancellationToken) =>
        (await ParseAsync(text, cancellationToken)).Embedding ?? throw new InvalidOperationException("the NLU model returned no embedding");

    private LoadedNlu? Primary(ModelSet set) =>
        options.NluPolicy == "teacher" ? set.TeacherNlu ?? set.StudentNlu : set.StudentNlu ?? set.TeacherNlu;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var batch = new List<NluWork>();
        try
        {
            while (true)
            {
                // Pending escalations run when no student work follows: at once after a lone request, or after
                // NluMaxWaitMs without new requests under load (callers resubmit within microseconds of their result).
                if (pending.Count > 0 && !await WorkBeforeAsync(Deadline(lastBatchSize > 1 ? options.NluMaxWaitMs : 0), stoppingToken))
                {
                    await stage.WaitAsync(CancellationToken.None); // an inline holder releases within one forward
                    try { if (pending.Count > 0) await EscalateAsync(); }
                    finally { stage.Release(); }
                    continue;
                }
                if (!await queue.Reader.WaitToReadAsync(stoppingToken)) break;
                batch.Clear();
                while (batch.Count < options.NluMaxBatch && queue.Reader.TryRead(out var w)) batch.Add(w);
                // Adaptive wait: only when requests are already piling up is it worth holding the batch open.
                if (batch.Count > 1 && batch.Count < options.NluMaxBatch && options.NluMaxWaitMs > 0)
                {
                    long deadline = Deadline(options.NluMaxWaitMs);
                    while (batch.Count < options.NluMaxBatch && time.GetTimestamp() < deadline && await WorkBeforeAsync(deadline, stoppingToken))
                        while (batch.Count < options.NluMaxBatch && queue.Reader.TryRead(out var more)) batch.Add(more);
                }
                await stage.WaitAsync(CancellationToken.None); // an inline holder releases within one forward
                try
                {
                    batch.RemoveAll(SkipAbandoned); // cancelled while queued: never run, so nothing to audit
                    lastBatchSize = batch.Count;
                    if (batch.Count > 0) await RunBatchAsync(batch);
                    if (pending.Count > 0 && EscalateNow()) await EscalateAsync();
                }
                finally
                {
                    stage.Release();
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
        finally
        {
            queue.Writer.TryComplete();
            foreach (var p in pending) p.Work.Result.TrySetException(new OperationCanceledException("MoltBot is shutting down"));
            pending.Clear();
            while (queue.Reader.TryRead(out var w)) w.Result.TrySetException(new OperationCanceledException("MoltBot is shutting down"));
        }
    }

    private async Task RunBatchAsync(List<NluWork> batch)
    {
        ModelSet? set = null;
        try
        {
            // At start-up the primary model is published before the others: wait only for what this batch needs.
            await registry.WhenPrimaryReadyAsync(CancellationToken.None);
            set = registry.Acquire();
            if (Primary(set) is null && !registry.IsLoaded)
            {
                set.Release();
                set = null;
                await registry.WhenLoadedAsync(CancellationToken.None);
                set = registry.Acquire();
            }
            var primary = Primary(set);
            if (primary is null)
            {
                foreach (var w in batch) w.Result.TrySetException(new InvalidOperationException("no NLU model is loaded (see /readyz)"));
                return;
            }
            var sw = Stopwatch.StartNew();
            var texts = batch.Select(w => w.Text).ToList();
            var encoded = batch.Select(w => w.Tokens is not null && w.Tokenizer == primary.Tokenizer ? w.Tokens : Encode(primary, w.Text)).ToList();
            var results = Run(primary, texts, encoded, options.NluChunkTokens);
            string primaryId = primary == set.StudentNlu ? options.StudentNlu : options.TeacherNlu;
            bool mayEscalate = options.NluPolicy == "escalate" && !string.IsNullOrEmpty(options.TeacherNlu) && primaryId != options.TeacherNlu;
            var escalate = mayEscalate
                ? Enumerable.Range(0, batch.Count).Where(i => results[i].Confidence < options.NluEscalationThreshold).ToHashSet()
                : [];
            // A set without a teacher (disabled, or skipped as broken) answers with the student; a partial start-up set
            // hands low-confidence utterances on, and the teacher pass waits for the teacher to load.
            bool canEscalate = set.TeacherNlu is not null && set.TeacherNlu != primary || set.TeacherNlu is null && set.IsPartial;
            double ms = sw.Elapsed.TotalMilliseconds / batch.Count;
            for (int i = 0; i < batch.Count; i++)
            {
                var r = results[i] with { Model = primaryId };
                batch[i].InputTokens = encoded[i].Count;
                batch[i].LatencyMs = ms;
                if (canEscalate && escalate.Contains(i))
                {
                    if (pending.Count == 0) oldestPending = time.GetTimestamp();
                    pending.Add(new PendingEscalation(batch[i], r));
                    Volatile.Write(ref pendingCount, pending.Count);
                    pendingTokens += encoded[i].Count;
                }
                else
                {
                    batch[i].Result.TrySetResult(r);
                }
            }
        }
        catch (Exception ex)
        {
            // A failed batch fails its requests; the worker keeps serving the next ones.
            logger.LogError(ex, "NLU batch of {Count} failed", batch.Count);
            foreach (var w in batch) w.Result.TrySetException(ex);
        }
        finally
        {
            set?.Release();
        }
    }

    /// <summary>
    /// Low-confidence utterances are re-run on the teacher in pooled passes rather than a few per student batch: a
    /// teacher pass costs about a millisecond before any arithmetic, so 5 escalations out of 64 per pass cost more
    /// than the 64 student utterances (docs/performance.md). They collect while student work keeps coming, until they
    /// fill one length bucket (NluChunkTokens rows) or the oldest has waited 10 × NluMaxWaitMs; after a lone request
    /// (no load) they run at once, so a lone request is never delayed.
    /// </summary>
    private bool EscalateNow() =>
        lastBatchSize <= 1 || pendingTokens >= options.NluChunkTokens
        || time.GetElapsedTime(oldestPending).TotalMilliseconds >= 10.0 * options.NluMaxWaitMs;

    /// <summary>The <see cref="TimeProvider"/> timestamp <paramref name="milliseconds"/> from now.</summary>
    private long Deadline(int milliseconds) => time.GetTimestamp() + (long)(milliseconds / 1000.0 * time.TimestampFrequency);

    /// <summary>True as soon as a request is queued; false when none came before <paramref name="deadline"/>.</summary>
    /// <remarks>
    /// Waits on the queue itself, with a timer for the deadline. It used to poll with <c>Task.Delay(0.2 ms)</c>, but a
    /// delay under one millisecond completes at once, so every wait of a forming batch (up to NluMaxWaitMs, and up to
    /// 10× that before an escalation) was a busy loop on a core the other requests needed.
    /// </remarks>
    private async Task<bool> WorkBeforeAsync(long deadline, CancellationToken stoppingToken)
    {
        if (queue.Reader.Count > 0) return true;
        var left = time.GetElapsedTime(time.GetTimestamp(), deadline);
        if (left <= TimeSpan.Zero) return false;
        using var timeout = new CancellationTokenSource(left, time);
        using var either = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken, timeout.Token);
        try
        {
            // False: the queue was completed (shutting down) — nothing more will come.
            return await queue.Reader.WaitToReadAsync(either.Token) && queue.Reader.Count > 0;
        }
        catch (OperationCanceledException) when (!stoppingToken.IsCancellationRequested)
        {
            return queue.Reader.Count > 0; // the deadline passed; a request that raced it still counts
        }
    }

    private async Task EscalateAsync()
    {
        var items = pending.ToList();
        pending.Clear();
        pendingTokens = 0;
        ModelSet? set = null;
        try
        {
            // The start-up set may not have the teacher yet: escalations wait for the complete set.
            await registry.WhenLoadedAsync(CancellationToken.None);
            set = registry.Acquire();
            var teacher = set.TeacherNlu;
            // Cancelled while pending: the student did run it, so it is answered (and audited) with the student's result.
            foreach (var p in items.Where(p => p.Work.IsAbandoned)) p.Work.Result.TrySetResult(p.Student);
            var live = items.Where(p => !p.Work.Result.Task.IsCompleted).ToList();
            if (teacher is null)
            {
                foreach (var p in live) p.Work.Result.TrySetResult(p.Student);
                return;
            }
            var sw = Stopwatch.StartNew();
            var texts = live.Select(p => p.Work.Text).ToList();
            var tr = Run(teacher, texts, texts.Select(t => Encode(teacher, t)).ToList(), options.NluChunkTokens);
            double ms = live.Count == 0 ? 0 : sw.Elapsed.TotalMilliseconds / live.Count;
            for (int j = 0; j < live.Count; j++)
            {
                // The embedding always comes from the primary model, so vectors stay comparable across calls.
                live[j].Work.LatencyMs += ms;
                live[j].Work.Result.TrySetResult(tr[j] with { Model = options.TeacherNlu, Escalated = true, Embedding = live[j].Student.Embedding });
            }
        }
        catch (Exception ex)
        {
            logger.LogError(ex, "NLU escalation of {Count} utterances failed", items.Count);
            foreach (var p in items) p.Work.Result.TrySetException(ex);
        }
        finally
        {
            set?.Release();
            Volatile.Write(ref pendingCount, pending.Count);
        }
    }

    /// <summary>One forward pass over a padded batch; decodes intents, BIO entity spans, language, embeddings.</summary>
    internal static List<NluResult> Run(LoadedNlu nlu, IReadOnlyList<string> texts) =>
        Run(nlu, texts, texts.Select(t => Encode(nlu, t)).ToList(), int.MaxValue);

    /// <summary>
    /// <paramref name="texts"/> (already encoded) in length buckets of at most <paramref name="maxTokens"/> padded token
    /// rows per forward pass (see <see cref="LengthBuckets"/>); results in the order of <paramref name="texts"/>.
    /// </summary>
    internal static List<NluResult> Run(LoadedNlu nlu, IReadOnlyList<string> texts, IReadOnlyList<IReadOnlyList<(int Id, int Start, int End)>> encoded,
        int maxTokens)
    {
        var results = new NluResult[texts.Count];
        foreach (var group in LengthBuckets.Split(encoded.Select(e => e.Count).ToList(), maxTokens))
        {
            var (outputs, length) = Forward(nlu, group.Select(i => encoded[i]).ToList());
            for (int j = 0; j < group.Length; j++) results[group[j]] = outputs.Decode(j, texts[group[j]], encoded[group[j]], length, nlu.Config);
        }
        return [.. results];
    }

    /// <summary>The tokens the model sees: the tokenizer's, cut to the model's max_position_embeddings.</summary>
    internal static IReadOnlyList<(int Id, int Start, int End)> Encode(LoadedNlu nlu, string text)
    {
        var tokens = nlu.Tokenizer.EncodeWithOffsets(text);
        int max = nlu.Config.MaxPositionEmbeddings;
        return tokens.Count <= max ? tokens : tokens.Take(max).ToList();
    }

    /// <summary>One padded batch through the model: two input tensors, one forward, one read-back per output.</summary>
    internal static (NluBatchOutputs Outputs, int Length) Forward(LoadedNlu nlu, IReadOnlyList<IReadOnlyList<(int Id, int Start, int End)>> encoded)
    {
        var inputs = NluBatchInputs.Build(encoded, nlu.Config);
        using var mode = torch.inference_mode();
        using var scope = NewDisposeScope();
        var (ids, mask) = inputs.ToTensors();
        using var output = nlu.Model.Predict(ids, mask);
        return (NluBatchOutputs.Read(output), inputs.Length);
    }

    public override void Dispose()
    {
        base.Dispose();
        stage.Dispose();
    }

    private static bool SkipAbandoned(NluWork work) => work.IsAbandoned && work.Result.TrySetCanceled();

    /// <summary>A student result below the escalation threshold, waiting for a pooled teacher pass.</summary>
    private sealed record PendingEscalation(NluWork Work, NluResult Student);

    /// <param name="Tokenizer">The tokenizer that produced <paramref name="Tokens"/> (null when no model was loaded yet).</param>
    private sealed record NluWork(string Text, TextTokenizer? Tokenizer, IReadOnlyList<(int Id, int Start, int End)>? Tokens)
    {
        public TaskCompletionSource<NluResult> Result { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
        /// <summary>Set by the worker before the result: for the audit entry.</summary>
        public int InputTokens { get; set; }
        public double LatencyMs { get; set; }

        private volatile bool abandoned;

        /// <summary>True once the caller stopped waiting (its cancellation token fired).</summary>
        public bool IsAbandoned => abandoned;

        public void Abandon() => abandoned = true;
    }
}
