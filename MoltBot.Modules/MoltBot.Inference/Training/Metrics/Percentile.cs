namespace MoltBot.Inference.Training.Metrics;

public static class Percentile
{
    /// <summary>Linear-interpolated percentile (0..100) of <paramref name="values"/>; 0 for an empty set.</summary>
    public static double Of(IReadOnlyCollection<double> values, double percentile)
    {
        if (values.Count == 0) return 0;
        var sorted = values.Order().ToArray();
        double rank = percentile / 100 * (sorted.Length - 1);
        int lo = (int)Math.Floor(rank), hi = (int)Math.Ceiling(rank);
        return sorted[lo] + (sorted[hi] - sorted[lo]) * (rank - lo);
    }
}
