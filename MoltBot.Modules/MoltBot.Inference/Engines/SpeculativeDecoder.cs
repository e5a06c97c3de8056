using System.Runtime.InteropServices;
using MoltBot.Contracts.Inference;
using MoltBot.Inference.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace MoltBot.Inference.Engines;

/// <summary>
/// Greedy speculative decoding: the student drafts k tokens, the teacher scores all of them in one forward pass,
/// the longest prefix the teacher agrees with is kept plus the teacher's own next token. Every emitted token is
/// the teacher's argmax, so the output equals teacher-only greedy decoding. Rejected drafts need no undo: the
/// preallocated caches are simply overwritten from the first wrong position.
/// </summary>
internal sealed class SpeculativeDecoder : IDisposable
{
    private readonly LoadedDecoder teacher;
    private readonly LoadedDecoder student;
    private readonly KvCache teacherCache;
    private readonly KvCache studentCache;
    private readonly SemaphoreSlim gate = new(1, 1);
    private readonly int draft;
    private readonly HashSet<int> stopIds;

    public SpeculativeDecoder(LoadedDecoder teacher, LoadedDecoder student, int draftTokens, int maxLength)
    {
        this.teacher = teacher;
        this.student = student;
        draft = draftTokens;
        MaxLength = Math.Min(maxLength, Math.Min(teacher.Config.MaxPositionEmbeddings, student.Config.MaxPositionEmbeddings));
        teacherCache = new KvCache(teacher.Config, 1, MaxLength);
        studentCache = new KvCache(student.Config, 1, MaxLength);
        stopIds = GenerationLoop.StopTokenIds(teacher);
    }

    public int MaxLength { get; }

    /// <summary>Both models must share a vocabulary for drafts to mean anything to the teacher.</summary>
    public static bool Compatible(LoadedDecoder teacher, LoadedDecoder student) => teacher.Config.VocabSize == student.Config.VocabSize;

    /// <summary>Runs <paramref name="job"/> to completion on a worker thread, writing tokens to job.Output.</summary>
    public async Task RunAsync(GenerationJob job, string modelId)
    {
        await gate.WaitAsync(job.CancellationToken);
        try
        {
            await Task.Run(() => Run(job, modelId), CancellationToken.None);
        }
        catch (Exception ex) when (ex is ExternalException or InvalidOperationException or ArgumentException)
        {
            job.Output.Writer.TryComplete(ex);
        }
        finally
        {
            gate.Release();
        }
    }

    private void Run(GenerationJob job, string modelId)
    {
        using var mode = torch.inference_mode();
        var text = new TokenTextStream(teacher.Tokenizer, job.Sampling.Stop.Concat(teacher.Template.StopStrings).ToList());
        var committed = job.Prompt.ToList();
        int prompt = committed.Count;
        // Prefill both; the teacher's first token is committed at once.
        var first = Forward(teacher.Model, teacherCache, committed, 0);
        Forward(student.Model, studentCache, committed, 0);
        int tPos = prompt, sPos = prompt;
        var pending = new List<(int Token, float LogProb)> { Pick(first[^1]) };
        while (true)
        {
            foreach (var (token, logProb) in pending)
            {
                committed.Add(token);
                if (Emit(job, text, token, logProb, committed.Count, modelId)) return;
            }
            if (job.CancellationToken.IsCancellationRequested)
            {
                job.Output.Writer.TryComplete(new OperationCanceledException(job.CancellationToken));
                return;
            }
            // Draft k tokens with the student (its cache may lag behind the committed sequence).
            int k = Math.Min(draft, MaxLength - committed.Count - 1);
            var drafts = new List<int>();
            var sLogits = Forward(student.Model, studentCache, committed.Skip(sPos).ToList(), sPos);
            drafts.Add(Sampler.ArgMax(sLogits[^1]));
            for (int i = 1; i < k; i++)
                drafts.Add(Sampler.ArgMax(Forward(student.Model, studentCache, [drafts[^1]], committed.Count + i - 1)[0]));
            // Verify: feed the not-yet-cached committed tokens and all drafts to the teacher in one pass.
            var feed = committed.Skip(tPos).Concat(drafts).ToList();
            var tLogits = Forward(teacher.Model, teacherCache, feed, tPos);
            int m = committed.Count - tPos; // tLogits[m - 1 + i] predicts the token after drafts[..i]
            int accepted = 0;
            while (accepted < drafts.Count && Sampler.ArgMax(tLogits[m - 1 + accepted]) == drafts[accepted]) accepted++;
            pending = [];
            for (int i = 0; i < accepted; i++) pending.Add((drafts[i], Sampler.LogSoftmaxAt(tLogits[m - 1 + i], drafts[i])));
            pending.Add(Pick(tLogits[m - 1 + accepted]));
            tPos = committed.Count + accepted;
            sPos = committed.Count + Math.Min(accepted, drafts.Count - 1);
        }
    }

    private static (int, float) Pick(float[] logits)
    {
        int t = Sampler.ArgMax(logits);
        return (t, Sampler.LogSoftmaxAt(logits, t));
    }

    /// <returns>True when the job is finished.</returns>
    private bool Emit(GenerationJob job, TokenTextStream text, int token, float logProb, int length, string modelId)
    {
        job.Generated.Add(token);
        job.LogProbSum += logProb;
        if (stopIds.Contains(token))
        {
            job.Output.Writer.TryWrite(new GeneratedToken(text.Flush(), logProb) { TokenId = token, Model = modelId, FinishReason = "stop" });
            job.Output.Writer.TryComplete();
            return true;
        }
        var (delta, stopped) = text.Add(token);
        string? reason = stopped ? "stop" : job.Generated.Count >= job.MaxNewTokens || length + draft + 1 >= MaxLength ? "length" : null;
        if (reason == "length") delta += text.Flush();
        job.Output.Writer.TryWrite(new GeneratedToken(delta, logProb) { TokenId = token, Model = modelId, FinishReason = reason });
        if (reason is null) return false;
        job.Output.Writer.TryComplete();
        return true;
    }

    /// <summary>Feeds <paramref name="tokens"/> at <paramref name="start"/> into slot 0; logits per fed position.</summary>
    private static float[][] Forward(DecoderLM model, KvCache cache, IReadOnlyList<int> tokens, int start)
    {
        using var scope = NewDisposeScope();
        var input = torch.tensor(tokens.Select(t => (long)t).ToArray()).unsqueeze(0);
        var logits = model.ForwardCached(input, cache, [0], [start]).to(ScalarType.Float32).cpu().contiguous(); // [1,T,V]
        int v = (int)logits.shape[2];
        var all = MemoryMarshal.Cast<byte, float>(logits.bytes).ToArray();
        return Enumerable.Range(0, tokens.Count).Select(i => all.AsSpan(i * v, v).ToArray()).ToArray();
    }

    public void Dispose()
    {
        teacherCache.Dispose();
        studentCache.Dispose();
        gate.Dispose();
    }
}
