using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;
using MoltBot.Contracts.Diagnostics;

namespace MoltBot.DevTools;

/// <summary>Per-stage latency breakdown (p50/p95/p99/max) from traces or from a live /metrics endpoint.</summary>
public static partial class PerfReport
{
    public sealed record StageStats(string Stage, int Count, double P50, double P95, double P99, double Max, double TotalMs);

    public static IReadOnlyList<StageStats> FromTrace(IEnumerable<TraceEvent> events) =>
        events.Where(e => e.ElapsedMs is not null)
            .GroupBy(e => e.Stage)
            .Select(g =>
            {
                var v = g.Select(e => e.ElapsedMs!.Value).Order().ToArray();
                return new StageStats(g.Key, v.Length, Quantile(v, 0.50), Quantile(v, 0.95), Quantile(v, 0.99), v[^1], v.Sum());
            })
            .OrderByDescending(s => s.TotalMs)
            .ToList();

    /// <summary>Nearest-rank quantile of a sorted array.</summary>
    public static double Quantile(double[] sorted, double q)
    {
        if (sorted.Length == 0) return double.NaN;
        int rank = (int)Math.Ceiling(q * sorted.Length);
        return sorted[Math.Clamp(rank - 1, 0, sorted.Length - 1)];
    }

    /// <summary>Quantiles estimated from the moltbot_stage_seconds histogram (linear within a bucket).</summary>
    public static IReadOnlyList<StageStats> FromPrometheus(string metricsText)
    {
        var buckets = new Dictionary<string, List<(double Le, double Count)>>();
        var sums = new Dictionary<string, double>();
        foreach (Match m in BucketLine().Matches(metricsText))
        {
            string stage = m.Groups["stage"].Value;
            double le = m.Groups["le"].Value == "+Inf" ? double.PositiveInfinity : double.Parse(m.Groups["le"].Value, CultureInfo.InvariantCulture);
            double count = double.Parse(m.Groups["v"].Value, CultureInfo.InvariantCulture);
            if (!buckets.TryGetValue(stage, out var list)) buckets[stage] = list = [];
            list.Add((le, count));
        }
        foreach (Match m in SumLine().Matches(metricsText))
            sums[m.Groups["stage"].Value] = double.Parse(m.Groups["v"].Value, CultureInfo.InvariantCulture) * 1000;

        var result = new List<StageStats>();
        foreach (var (stage, list) in buckets)
        {
            list.Sort((a, b) => a.Le.CompareTo(b.Le));
            double total = list[^1].Count;
            if (total == 0) continue;
            double Q(double q)
            {
                double target = q * total, prevLe = 0, prevCount = 0;
                foreach (var (le, count) in list)
                {
                    if (count >= target)
                    {
                        if (double.IsPositiveInfinity(le)) return prevLe * 1000;
                        double frac = count == prevCount ? 0 : (target - prevCount) / (count - prevCount);
                        return (prevLe + frac * (le - prevLe)) * 1000;
                    }
                    (prevLe, prevCount) = (le, count);
                }
                return prevLe * 1000;
            }
            var top = list.First(b => b.Count >= total);
            double maxBound = double.IsPositiveInfinity(top.Le) ? list.Last(b => !double.IsPositiveInfinity(b.Le)).Le : top.Le;
            result.Add(new StageStats(stage, (int)total, Q(0.5), Q(0.95), Q(0.99), maxBound * 1000, sums.GetValueOrDefault(stage)));
        }
        return result.OrderByDescending(s => s.TotalMs).ToList();
    }

    public static string Format(IReadOnlyList<StageStats> stats, bool maxIsBucketBound = false)
    {
        var sb = new StringBuilder();
        double all = stats.Where(s => s.Stage != "total").Sum(s => s.TotalMs);
        sb.AppendLine($"{"stage",-14} {"count",8} {"p50 ms",10} {"p95 ms",10} {"p99 ms",10} {(maxIsBucketBound ? "max≤ ms" : "max ms"),10} {"time share",10}");
        foreach (var s in stats)
        {
            string share = s.Stage == "total" || all == 0 ? "" : (s.TotalMs / all).ToString("P1", CultureInfo.InvariantCulture);
            sb.AppendLine(string.Create(CultureInfo.InvariantCulture,
                $"{s.Stage,-14} {s.Count,8} {s.P50,10:F3} {s.P95,10:F3} {s.P99,10:F3} {s.Max,10:F3} {share,10}"));
        }
        return sb.ToString();
    }

    [GeneratedRegex(@"^moltbot_stage_seconds_bucket\{stage=""(?<stage>[^""]+)"",le=""(?<le>[^""]+)""\} (?<v>\S+)", RegexOptions.Multiline)]
    private static partial Regex BucketLine();

    [GeneratedRegex(@"^moltbot_stage_seconds_sum\{stage=""(?<stage>[^""]+)""\} (?<v>\S+)", RegexOptions.Multiline)]
    private static partial Regex SumLine();
}
