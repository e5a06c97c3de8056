using System.Diagnostics;

namespace MoltBot.Inference.Training.Loop;

/// <summary>Items per second over a sliding window, and the ETA it implies.</summary>
public sealed class ThroughputMeter
{
    private readonly Queue<(double Seconds, long Items, long Step)> window = new();
    private readonly Stopwatch clock = Stopwatch.StartNew();

    public void Record(long step, long items) 
    {
        window.Enqueue((clock.Elapsed.TotalSeconds, items, step));
        while (window.Count > 50) window.Dequeue();
    }

    public double ItemsPerSecond
    {
        get
        {
            if (window.Count < 2) return 0;
            var first = window.Peek();
            var last = window.Last();
            double dt = last.Seconds - first.Seconds;
            return dt <= 0 ? 0 : window.Skip(1).Sum(w => w.Items) / dt;
        }
    }

    public TimeSpan Eta(long step, long totalSteps)
    {
        if (window.Count < 2) return TimeSpan.Zero;
        var first = window.Peek();
        var last = window.Last();
        double perStep = (last.Seconds - first.Seconds) / Math.Max(1, last.Step - first.Step);
        return TimeSpan.FromSeconds(perStep * Math.Max(0, totalSteps - step));
    }
}
