namespace MoltBot.Inference.Training.Metrics;

public sealed record IntentScores(double Precision, double Recall, double F1, int Support);
