using MoltBot.Contracts.Inference;

namespace MoltBot.Inference.Training.Metrics;

/// <summary>One scored prediction: gold and predicted intent and entity spans, and how long the prediction took.</summary>
public sealed record NluPrediction(string GoldIntent, IReadOnlyList<EntitySpan> GoldEntities, string PredictedIntent,
    IReadOnlyList<EntitySpan> PredictedEntities, double LatencyMs);

/// <summary>
/// Intent accuracy, macro-F1 over the labels that occur (gold or predicted), per-intent precision/recall, the
/// confusion matrix, and micro entity precision/recall/F1 with exact (type, start, end) matching.
/// </summary>
public static class NluScorer
{
    public static NluReport Score(string model, IReadOnlyList<NluPrediction> predictions)
    {
        if (predictions.Count == 0) throw new ArgumentException("nothing to score", nameof(predictions));
        var labels = predictions.Select(p => p.GoldIntent).Concat(predictions.Select(p => p.PredictedIntent))
            .Distinct().OrderBy(l => Intents.All.Contains(l) ? Intents.All.ToList().IndexOf(l) : int.MaxValue).ThenBy(l => l, StringComparer.Ordinal).ToList();
        var confusion = labels.ToDictionary(l => l, _ => labels.ToDictionary(l => l, _ => 0));
        foreach (var p in predictions) confusion[p.GoldIntent][p.PredictedIntent]++;

        var perIntent = new Dictionary<string, IntentScores>();
        foreach (var l in labels)
        {
            int tp = confusion[l][l];
            int predicted = labels.Sum(g => confusion[g][l]);
            int gold = confusion[l].Values.Sum();
            double p = predicted == 0 ? 0 : (double)tp / predicted;
            double r = gold == 0 ? 0 : (double)tp / gold;
            perIntent[l] = new IntentScores(p, r, p + r == 0 ? 0 : 2 * p * r / (p + r), gold);
        }

        int entTp = 0, entPred = 0, entGold = 0;
        foreach (var p in predictions)
        {
            var gold = p.GoldEntities.Select(e => (e.Type, e.Start, e.End)).ToHashSet();
            var pred = p.PredictedEntities.Select(e => (e.Type, e.Start, e.End)).ToHashSet();
            entGold += gold.Count;
            entPred += pred.Count;
            entTp += pred.Count(gold.Contains);
        }
        // No entities anywhere (gold and predicted) is a perfect entity score, not a division by zero.
        double ep = entPred == 0 ? (entGold == 0 ? 1 : 0) : (double)entTp / entPred;
        double er = entGold == 0 ? (entPred == 0 ? 1 : 0) : (double)entTp / entGold;

        var latencies = predictions.Select(p => p.LatencyMs).ToArray();
        return new NluReport
        {
            Model = model,
            N = predictions.Count,
            Accuracy = (double)predictions.Count(p => p.PredictedIntent == p.GoldIntent) / predictions.Count,
            MacroF1 = perIntent.Values.Average(s => s.F1),
            EntityPrecision = ep,
            EntityRecall = er,
            EntityF1 = ep + er == 0 ? 0 : 2 * ep * er / (ep + er),
            PerIntent = perIntent,
            Confusion = confusion.ToDictionary(kv => kv.Key, kv => (IReadOnlyDictionary<string, int>)kv.Value),
            LatencyP50Ms = Percentile.Of(latencies, 50),
            LatencyP99Ms = Percentile.Of(latencies, 99),
        };
    }
}
