namespace MoltBot.Inference.Training.Nlu;

/// <summary>A checkpoint's score on the dev set: intent accuracy first, span-level entity F1 to break ties.</summary>
public sealed record DevScore(double IntentAccuracy, double EntityF1)
{
    /// <summary>Strictly better: an equal score does not replace an earlier checkpoint (fewer steps, less overfitting).</summary>
    public bool IsBetterThan(DevScore? other) =>
        other is null
        || IntentAccuracy > other.IntentAccuracy
        || (IntentAccuracy == other.IntentAccuracy && EntityF1 > other.EntityF1);
}
