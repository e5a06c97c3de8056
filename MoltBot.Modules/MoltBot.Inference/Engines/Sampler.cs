using MoltBot.Contracts.Inference;

namespace MoltBot.Inference.Engines;

/// <summary>
/// Picks the next token from one row of logits: repetition penalty (CTRL-style: divide positive, multiply negative
/// logits of seen tokens), then greedy (temperature 0) or temperature + top-k + top-p sampling with a seeded RNG.
/// The reported log-probability is the model's own (log-softmax of the raw logits), used for escalation.
/// </summary>
public static class Sampler
{
    public static (int Token, float LogProb) Next(ReadOnlySpan<float> logits, IReadOnlyCollection<int> seen, SamplingOptions o, Random rng)
    {
        var work = logits.ToArray();
        if (o.RepetitionPenalty is > 0 and not 1f)
            foreach (int t in seen)
                if ((uint)t < (uint)work.Length) work[t] = work[t] > 0 ? work[t] / o.RepetitionPenalty : work[t] * o.RepetitionPenalty;
        int token = o.Temperature <= 0 ? ArgMax(work) : Sample(work, o, rng);
        return (token, LogSoftmaxAt(logits, token));
    }

    public static int ArgMax(ReadOnlySpan<float> x)
    {
        int best = 0;
        for (int i = 1; i < x.Length; i++) if (x[i] > x[best]) best = i;
        return best;
    }

    public static float LogSoftmaxAt(ReadOnlySpan<float> logits, int index)
    {
        float max = float.NegativeInfinity;
        foreach (var v in logits) if (v > max) max = v;
        double sum = 0;
        foreach (var v in logits) sum += Math.Exp(v - max);
        return (float)(logits[index] - max - Math.Log(sum));
    }

    private static int Sample(float[] logits, SamplingOptions o, Random rng)
    {
        int n = logits.Length;
        var idx = Enumerable.Range(0, n).ToArray();
        Array.Sort(logits.Select(v => -v).ToArray(), idx); // descending by logit
        int keep = o.TopK > 0 ? Math.Min(o.TopK, n) : n;
        double max = logits[idx[0]];
        var probs = new double[keep];
        double total = 0;
        for (int i = 0; i < keep; i++) total += probs[i] = Math.Exp((logits[idx[i]] - max) / o.Temperature);
        // Nucleus: the smallest prefix whose probability reaches top_p.
        if (o.TopP is > 0 and < 1)
        {
            double cum = 0;
            for (int i = 0; i < keep; i++)
            {
                cum += probs[i] / total;
                if (cum >= o.TopP)
                {
                    keep = i + 1;
                    break;
                }
            }
            total = probs.Take(keep).Sum();
        }
        double r = rng.NextDouble() * total;
        for (int i = 0; i < keep; i++)
        {
            r -= probs[i];
            if (r <= 0) return idx[i];
        }
        return idx[keep - 1];
    }
}
