using MoltBot.Contracts.Inference;
using MoltBot.Inference.Training.Metrics;

namespace MoltBot.Tests.Training;

public sealed class NluScorerTests
{
    private static NluPrediction P(string gold, string pred, EntitySpan[]? g = null, EntitySpan[]? p = null, double ms = 1) =>
        new(gold, g ?? [], pred, p ?? [], ms);

    [Fact]
    public void Accuracy_macro_f1_per_intent_and_confusion_match_hand_computation()
    {
        var loc = new EntitySpan("location", "Paris", 10, 15);
        var preds = new[]
        {
            P("greet", "greet"), P("greet", "greet"), P("greet", "thanks"),
            P("thanks", "thanks"),
            P("weather_query", "weather_query", [loc], [loc]),
            P("weather_query", "weather_query", [loc], [new EntitySpan("location", "Pari", 10, 14)]),
        };
        var r = NluScorer.Score("m", preds);
        Assert.Equal(5.0 / 6, r.Accuracy, 9);
        // greet: P=1, R=2/3, F1=0.8; thanks: P=1/2, R=1, F1=2/3; weather: 1,1,1.
        Assert.Equal(0.8, r.PerIntent["greet"].F1, 9);
        Assert.Equal(2.0 / 3, r.PerIntent["thanks"].F1, 9);
        Assert.Equal((0.8 + 2.0 / 3 + 1) / 3, r.MacroF1, 9);
        Assert.Equal(1, r.Confusion["greet"]["thanks"]);
        Assert.Equal(3, r.PerIntent["greet"].Support);
        // Entities: 1 of 2 predicted correct, 1 of 2 gold found.
        Assert.Equal(0.5, r.EntityF1, 9);
        var json = r.ToJson();
        foreach (var key in new[] { "accuracy", "macro_f1", "entity_f1", "per_intent", "n", "model" }) Assert.True(json.ContainsKey(key), key);
        Assert.Equal(6, (int)json["n"]!);
    }

    [Fact]
    public void Percentiles_interpolate()
    {
        Assert.Equal(50.5, Percentile.Of(Enumerable.Range(1, 100).Select(i => (double)i).ToArray(), 50), 9);
        Assert.Equal(99.01, Percentile.Of(Enumerable.Range(1, 100).Select(i => (double)i).ToArray(), 99), 9);
        Assert.Equal(0, Percentile.Of(Array.Empty<double>(), 50));
    }
}
