using System.Diagnostics;
using MoltBot.Contracts.Inference;
using MoltBot.Inference.Models;
using MoltBot.Inference.Training.Corpus;
using TorchSharp;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace MoltBot.Inference.Training.Lm;

public sealed record LmModelScores(string Model, double Perplexity, double TokensPerSecond, long Parameters, long BytesOnDisk);

public sealed record LmSample(string Lang, IReadOnlyList<ChatMessage> Context, string Reference, string Reply);

public sealed record LmReport(LmModelScores Teacher, LmModelScores? Student, double? Top1Agreement, int Dialogs, int ReplyTokens);

/// <summary>
/// Held-out scores of decoders on dialog data: perplexity of the reference replies, student/teacher top-1
/// next-token agreement on those positions, greedy decoding speed with the KV cache, and sample replies.
/// </summary>
public static class LmEvaluator
{
    /// <summary>Mean cross-entropy (nats) of reply tokens; leaves the model in eval mode.</summary>
    public static double ReplyCrossEntropy(DecoderLM model, IReadOnlyList<DialogSequence> data, int padId)
    {
        model.eval();
        using var noGrad = torch.no_grad();
        double sum = 0;
        long count = 0;
        foreach (var chunk in data.Where(d => d.Ids.Length > 1).Chunk(16))
        {
            using var scope = torch.NewDisposeScope();
            using var batch = LmBatch.From(chunk, padId);
            var logits = model.forward(batch.Inputs);
            var targets = batch.Targets.reshape(-1);
            sum += F.cross_entropy(logits.reshape(-1, logits.shape[2]), targets, ignore_index: LmBatch.Ignore, reduction: nn.Reduction.Sum).item<float>();
            count += targets.NotEqual(LmBatch.Ignore).sum().item<long>();
        }
        return count == 0 ? double.NaN : sum / count;
    }

    public static LmReport Evaluate(LoadedDecoder teacher, LoadedDecoder? student, IReadOnlyList<Dialog> dialogs, int speedPrompts = 16, int threads = 2)
    {
        torch.set_num_threads(threads);
        int padId = teacher.Config.EosTokenId ?? 0;
        int maxLen = Math.Min(teacher.Config.MaxPositionEmbeddings, student?.Config.MaxPositionEmbeddings ?? int.MaxValue);
        var seqs = dialogs.Select(d => DialogSequence.Encode(d, teacher.Tokenizer, teacher.Template, maxLen)).Where(s => s.Ids.Length > 1).ToList();
        double teacherCe = ReplyCrossEntropy(teacher.Model, seqs, padId);
        double? studentCe = student is null ? null : ReplyCrossEntropy(student.Model, seqs, padId);
        double? agreement = null;
        int replyTokens = 0;
        if (student is not null)
        {
            using var noGrad = torch.no_grad();
            long same = 0, total = 0;
            foreach (var chunk in seqs.Chunk(16))
            {
                using var scope = torch.NewDisposeScope();
                using var batch = LmBatch.From(chunk, padId);
                var mask = batch.Targets.NotEqual(LmBatch.Ignore);
                var t = teacher.Model.forward(batch.Inputs).argmax(-1);
                var s = student.Model.forward(batch.Inputs).argmax(-1);
                same += t.eq(s).logical_and(mask).sum().item<long>();
                total += mask.sum().item<long>();
            }
            agreement = total == 0 ? null : (double)same / total;
            replyTokens = (int)total;
        }
        var prompts = dialogs.Take(speedPrompts).Select(d => DialogSequence.Prompt(d.Messages, FirstReply(d), teacher.Tokenizer, teacher.Template)).ToList();
        return new LmReport(
            Scores(teacher, teacherCe, prompts),
            student is null ? null : Scores(student, studentCe!.Value, prompts),
            agreement, seqs.Count, replyTokens);
    }

    /// <summary>Greedy replies to the first assistant turn of each dialog (for model cards).</summary>
    public static List<LmSample> Samples(LoadedDecoder model, IReadOnlyList<Dialog> dialogs, int maxNewTokens = 64)
    {
        var result = new List<LmSample>();
        foreach (var d in dialogs)
        {
            int k = FirstReply(d);
            var prompt = DialogSequence.Prompt(d.Messages, k, model.Tokenizer, model.Template);
            var ids = Greedy(model, prompt, maxNewTokens);
            result.Add(new LmSample(d.Lang, d.Messages.Take(k).ToList(), d.Messages[k].Content, model.Tokenizer.Decode(ids).Trim()));
        }
        return result;
    }

    /// <summary>Greedy decoding with the KV cache until an end-of-turn token or <paramref name="maxNewTokens"/>.</summary>
    public static List<int> Greedy(LoadedDecoder model, IReadOnlyList<int> prompt, int maxNewTokens, bool ignoreStops = false)
    {
        var stops = model.Template.StopStrings.Select(s => model.Tokenizer.SpecialId(s)).OfType<int>().ToHashSet();
        if (model.Config.EosTokenId is { } eos) stops.Add(eos);
        int room = model.Config.MaxPositionEmbeddings - prompt.Count;
        maxNewTokens = Math.Min(maxNewTokens, room);
        var output = new List<int>();
        if (maxNewTokens <= 0) return output;
        using var mode = torch.inference_mode();
        using var cache = new KvCache(model.Config, 1, prompt.Count + maxNewTokens);
        int slot = cache.TryRent();
        try
        {
            using var scope = torch.NewDisposeScope();
            var logits = model.Model.ForwardCached(torch.tensor(prompt.Select(i => (long)i).ToArray(), [1, prompt.Count]), cache, [slot], [0], lastOnly: true);
            int pos = prompt.Count;
            for (int i = 0; i < maxNewTokens; i++)
            {
                int next = (int)logits[0, -1].argmax().item<long>();
                if (!ignoreStops && stops.Contains(next)) break;
                output.Add(next);
                if (i + 1 == maxNewTokens) break;
                logits = model.Model.ForwardCached(torch.tensor(new long[] { next }, [1, 1]), cache, [slot], [pos], lastOnly: true);
                pos++;
            }
        }
        finally
        {
            cache.Return(slot);
        }
        return output;
    }

    /// <summary>Parameters including those of INT8 projections (whose FP32 storage was released at load).</summary>
    public static long ParameterCount(IEnumerable<(string Name, TorchSharp.Modules.Parameter Parameter)> parameters, IEnumerable<(string Name, LinearLayer Layer)> linears)
    {
        var int8 = linears.Where(l => l.Layer.Int8 is not null).ToList();
        var int8Weights = int8.Select(l => l.Name + ".weight").ToHashSet();
        return parameters.Where(p => !int8Weights.Contains(p.Name)).Sum(p => p.Parameter.numel())
            + int8.Sum(l => (long)l.Layer.InFeatures * l.Layer.OutFeatures);
    }

    private static int FirstReply(Dialog d)
    {
        for (int i = 0; i < d.Messages.Count; i++)
            if (d.Messages[i].Role == "assistant") return i;
        throw new InvalidDataException($"{d.Source}: dialog has no assistant turn");
    }

    private static LmModelScores Scores(LoadedDecoder model, double ce, IReadOnlyList<IReadOnlyList<int>> prompts)
    {
        // Warm-up (native lazy init), then greedy decoding speed: generated tokens per second of wall time.
        if (prompts.Count > 0) Greedy(model, prompts[0], 4);
        long generated = 0;
        var sw = Stopwatch.StartNew();
        foreach (var p in prompts) generated += Greedy(model, p, 32, ignoreStops: true).Count;
        sw.Stop();
        long bytes = Directory.GetFiles(model.Folder).Where(f => !f.EndsWith(".md") && !f.EndsWith(".png") && !f.EndsWith(".svg") && !f.EndsWith("metrics.json"))
            .Sum(f => new FileInfo(f).Length);
        return new LmModelScores(Path.GetFileName(Path.TrimEndingDirectorySeparator(model.Folder)), Math.Exp(ce),
            generated / Math.Max(1e-9, sw.Elapsed.TotalSeconds), ParameterCount(model.Model.named_parameters(), model.Model.LinearLayers()), bytes);
    }
}
