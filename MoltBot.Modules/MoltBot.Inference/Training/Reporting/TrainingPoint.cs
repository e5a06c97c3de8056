namespace MoltBot.Inference.Training.Reporting;

/// <summary>One logged training step: loss on the batch, and (when an evaluation ran) the held-out metric.</summary>
public sealed record TrainingPoint(long Step, double Loss, double LearningRate, double ItemsPerSecond, double? EvalLoss = null, double? EvalMetric = null);
