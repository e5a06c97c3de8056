using System.Text.Json.Nodes;

namespace MoltBot.Inference.Training.Metrics;

/// <summary>The result of scoring an NLU model on a labelled set.</summary>
public sealed record NluReport
{
    public required string Model { get; init; }
    public required int N { get; init; }
    public required double Accuracy { get; init; }
    public required double MacroF1 { get; init; }
    public required double EntityPrecision { get; init; }
    public required double EntityRecall { get; init; }
    public required double EntityF1 { get; init; }
    public required IReadOnlyDictionary<string, IntentScores> PerIntent { get; init; }
    /// <summary>confusion[gold][predicted] = count.</summary>
    public required IReadOnlyDictionary<string, IReadOnlyDictionary<string, int>> Confusion { get; init; }
    public double LatencyP50Ms { get; init; }
    public double LatencyP99Ms { get; init; }

    /// <summary>The `eval nlu --json` object: accuracy, macro_f1, entity_f1, per_intent, n, model (+ details).</summary>
    public JsonObject ToJson()
    {
        var perIntent = new JsonObject();
        foreach (var (intent, s) in PerIntent)
            perIntent[intent] = new JsonObject { ["precision"] = R(s.Precision), ["recall"] = R(s.Recall), ["f1"] = R(s.F1), ["support"] = s.Support };
        var confusion = new JsonObject();
        foreach (var (gold, row) in Confusion)
        {
            var r = new JsonObject();
            foreach (var (pred, c) in row) r[pred] = c;
            confusion[gold] = r;
        }
        return new JsonObject
        {
            ["accuracy"] = R(Accuracy),
            ["macro_f1"] = R(MacroF1),
            ["entity_f1"] = R(EntityF1),
            ["per_intent"] = perIntent,
            ["n"] = N,
            ["model"] = Model,
            ["entity_precision"] = R(EntityPrecision),
            ["entity_recall"] = R(EntityRecall),
            ["latency_ms_p50"] = R(LatencyP50Ms),
            ["latency_ms_p99"] = R(LatencyP99Ms),
            ["confusion"] = confusion,
        };
    }

    private static double R(double x) => Math.Round(x, 6);
}
