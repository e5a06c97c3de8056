using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Threading.Channels;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using MoltBot.Contracts.Configuration;
using MoltBot.Contracts.Inference;
using MoltBot.Inference.Models;
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
        var work = new NluWork(text, cancellationToken);
        await queue.Writer.WriteAsync(work, cancellationToken);
        using var reg = cancellationToken.Register(() => work.Result.TrySetCanceled(cancellationToken));
        return await work.Result.Task;
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
            var results = Run(primary, batch.Select(w => w.Text).ToList());
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
                var tr = Run(teacher, escalate.Select(i => batch[i].Text).ToList());
                for (int j = 0; j < escalate.Count; j++) teacherResults[escalate[j]] = tr[j];
            }
            double ms = sw.Elapsed.TotalMilliseconds;
            for (int i = 0; i < batch.Count; i++)
            {
                // The embedding always comes from the primary model, so vectors stay comparable across calls.
                var r = teacherResults.TryGetValue(i, out var t)
                    ? t with { Model = options.TeacherNlu, Escalated = true, Embedding = results[i].Embedding }
                    : results[i] with { Model = primaryId };
                // Audit first: once a caller holds its result, the audit entry for it already exists.
                await audit.AppendAsync("model.nlu", r.Model, batch[i].Text, r.Intent, primary.Tokenizer.CountTokens(batch[i].Text), 0, ms / batch.Count,
                    r.Escalated ? "escalated" : "ok");
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
    internal static List<NluResult> Run(LoadedNlu nlu, IReadOnlyList<string> texts)
    {
        var cfg = nlu.Config;
        var encoded = texts.Select(t => nlu.Tokenizer.EncodeWithOffsets(t).Take(cfg.MaxPositionEmbeddings).ToList()).ToList();
        int maxLen = Math.Max(1, encoded.Max(e => e.Count));
        var ids = new long[texts.Count, maxLen];
        var mask = new long[texts.Count, maxLen];
        for (int b = 0; b < texts.Count; b++)
        {
            for (int t = 0; t < maxLen; t++) ids[b, t] = cfg.PadTokenId;
            for (int t = 0; t < encoded[b].Count; t++)
            {
                ids[b, t] = encoded[b][t].Id;
                mask[b, t] = 1;
            }
            if (encoded[b].Count == 0) mask[b, 0] = 1; // empty text: pool over the pad token rather than nothing
        }
        using var mode = torch.inference_mode();
        using var scope = NewDisposeScope();
        using var output = nlu.Model.Predict(torch.tensor(ids), torch.tensor(mask));
        var intentProbs = Floats(output.IntentProbs);
        var tags = Longs(output.Tags);
        var emb = Floats(output.Embedding);
        int nI = cfg.Intents.Count, e = cfg.EmbeddingSize;
        var results = new List<NluResult>(texts.Count);
        for (int b = 0; b < texts.Count; b++)
        {
            var p = intentProbs.AsSpan(b * nI, nI);
            int best = Sampler.ArgMax(p);
            var spans = BioDecoder.Decode(texts[b], encoded[b], tags.AsSpan(b * maxLen, encoded[b].Count), cfg.BioTags);
            results.Add(new NluResult(cfg.Intents[best], p[best], spans, BioDecoder.Language(texts[b]))
            {
                Embedding = emb.AsSpan(b * e, e).ToArray(),
            });
        }
        return results;
    }

    private static float[] Floats(Tensor t)
    {
        using var c = t.to(ScalarType.Float32).cpu().contiguous();
        return MemoryMarshal.Cast<byte, float>(c.bytes).ToArray();
    }

    private static long[] Longs(Tensor t)
    {
        using var c = t.to(ScalarType.Int64).cpu().contiguous();
        return MemoryMarshal.Cast<byte, long>(c.bytes).ToArray();
    }

    private sealed record NluWork(string Text, CancellationToken CancellationToken)
    {
        public TaskCompletionSource<NluResult> Result { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }
}
