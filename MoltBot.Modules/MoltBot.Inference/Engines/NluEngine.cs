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
/// utterances whose intent probability is below NluEscalationThreshold are re-run on the teacher.
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
            return File.Exists(config) ? NluEncoderConfig.Load(config).EmbeddingSize
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
        await queue.Writer.WriteAsync(work, cancellationToken);
        NluResult result;
        using (cancellationToken.Register(() => work.Result.TrySetCanceled(cancellationToken)))
            result = await work.Result.Task;
        // Audit on the caller's thread too (two SHA-256 and an append per request), before the caller holds the result.
        await audit.AppendAsync("model.nlu", result.Model, text, result.Intent, work.InputTokens, 0, work.LatencyMs, result.Escalated ? "escalated" : "ok");
        return result;
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
            while (await queue.Reader.WaitToReadAsync(stoppingToken))
            {
                batch.Clear();
                while (batch.Count < options.NluMaxBatch && queue.Reader.TryRead(out var w)) batch.Add(w);
                // Adaptive wait: only when requests are already piling up is it worth holding the batch open.
                if (batch.Count > 1 && batch.Count < options.NluMaxBatch && options.NluMaxWaitMs > 0)
                {
                    var deadline = time.GetTimestamp() + (long)(options.NluMaxWaitMs / 1000.0 * time.TimestampFrequency);
                    while (batch.Count < options.NluMaxBatch && time.GetTimestamp() < deadline)
                    {
                        if (queue.Reader.TryRead(out var more)) batch.Add(more);
                        else await Task.Delay(TimeSpan.FromMilliseconds(0.2), time, stoppingToken);
                    }
                }
                batch.RemoveAll(w => w.Result.Task.IsCompleted); // cancelled while queued
                if (batch.Count > 0) await RunBatchAsync(batch);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
        finally
        {
            queue.Writer.TryComplete();
            while (queue.Reader.TryRead(out var w)) w.Result.TrySetException(new OperationCanceledException("MoltBot is shutting down"));
        }
    }

    private async Task RunBatchAsync(List<NluWork> batch)
    {
        ModelSet? set = null, full = null;
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
                ? Enumerable.Range(0, batch.Count).Where(i => results[i].Confidence < options.NluEscalationThreshold).ToList()
                : [];
            var teacher = set.TeacherNlu;
            if (escalate.Count > 0 && teacher is null && set.IsPartial)
            {
                // The teacher is still loading (start-up): this low-confidence batch waits for it.
                await registry.WhenLoadedAsync(CancellationToken.None);
                full = registry.Acquire();
                teacher = full.TeacherNlu;
            }
            Dictionary<int, NluResult> teacherResults = [];
            if (escalate.Count > 0 && teacher is not null && teacher != primary)
            {
                // One teacher pass (length-bucketed like the student's) for all of this batch's low-confidence utterances.
                var escalated = escalate.Select(i => texts[i]).ToList();
                var tr = Run(teacher, escalated, escalated.Select(t => Encode(teacher, t)).ToList(), options.NluChunkTokens);
                for (int j = 0; j < escalate.Count; j++) teacherResults[escalate[j]] = tr[j];
            }
            double ms = sw.Elapsed.TotalMilliseconds / batch.Count;
            for (int i = 0; i < batch.Count; i++)
            {
                // The embedding always comes from the primary model, so vectors stay comparable across calls.
                var r = teacherResults.TryGetValue(i, out var t)
                    ? t with { Model = options.TeacherNlu, Escalated = true, Embedding = results[i].Embedding }
                    : results[i] with { Model = primaryId };
                batch[i].InputTokens = encoded[i].Count;
                batch[i].LatencyMs = ms;
                batch[i].Result.TrySetResult(r);
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
            full?.Release();
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

    /// <param name="Tokenizer">The tokenizer that produced <paramref name="Tokens"/> (null when no model was loaded yet).</param>
    private sealed record NluWork(string Text, TextTokenizer? Tokenizer, IReadOnlyList<(int Id, int Start, int End)>? Tokens)
    {
        public TaskCompletionSource<NluResult> Result { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
        /// <summary>Set by the worker before the result: for the audit entry.</summary>
        public int InputTokens { get; set; }
        public double LatencyMs { get; set; }
    }
}
